// Sign in (username or email) and create an account. An invite link opened while signed out
// lands here, and joins once the person is signed in (the URL stays /invite/<code>).
import { Client, fetchExchange } from '@urql/core';
import { type FormEvent, useMemo, useState } from 'react';
import { session } from '../../app/session';
import { graphql } from '../../gql';
import { describeError, errorField } from '../../lib/errors';
import { Link, paths } from '../../lib/router';

const Login = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      accessTokenExpiresAt
      user {
        id
      }
    }
  }
`);

const Register = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      accessToken
      refreshToken
      accessTokenExpiresAt
      user {
        id
      }
    }
  }
`);

export function AuthScreen({ mode, inviteCode }: { mode: 'login' | 'register'; inviteCode: string | null }) {
  const anonymous = useMemo(() => new Client({ url: '/graphql', exchanges: [fetchExchange], requestPolicy: 'network-only' }), []);
  const [error, setError] = useState<{ text: string; field: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [showRegister, setShowRegister] = useState(mode === 'register');
  const registering = inviteCode ? showRegister : mode === 'register';
  const ended = session.endedReason;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => String(form.get(name) ?? '').trim();
    setBusy(true);
    setError(null);
    const result = registering
      ? await anonymous
          .mutation(Register, {
            input: {
              username: value('username'),
              email: value('email'),
              password: String(form.get('password') ?? ''),
              displayName: value('displayName') || undefined,
            },
          })
          .toPromise()
      : await anonymous.mutation(Login, { input: { login: value('login'), password: String(form.get('password') ?? '') } }).toPromise();
    setBusy(false);
    const payload = result.data && ('register' in result.data ? result.data.register : result.data.login);
    if (payload) {
      session.signIn(payload);
      return;
    }
    setError({ text: describeError(result.error, registering ? 'create the account' : 'sign in'), field: errorField(result.error) });
  }

  const fieldError = (name: string) => (error?.field === name ? error.text : null);
  const switchLink = (to: 'login' | 'register', text: string) =>
    inviteCode ? (
      <button type="button" className="link-button" onClick={() => (setShowRegister(to === 'register'), setError(null))}>
        {text}
      </button>
    ) : (
      <Link href={to === 'login' ? paths.login() : paths.register()} onClick={() => setError(null)}>
        {text}
      </Link>
    );

  return (
    <main className="auth-page">
      <form className="auth-card" onSubmit={submit} aria-labelledby="auth-title" noValidate={false}>
        <h1 id="auth-title">{registering ? 'Create an account' : 'Welcome back'}</h1>
        {inviteCode ? <p className="auth-note">You have been invited to a server. Sign in or create an account to join it.</p> : null}
        {ended && !inviteCode ? <p className="auth-note">{ended}</p> : null}
        {registering ? (
          <>
            <Field name="username" label="Username" autoComplete="username" required minLength={2} error={fieldError('username')} />
            <Field name="email" label="Email" type="email" autoComplete="email" required error={fieldError('email')} />
            <Field name="displayName" label="Display name (optional)" autoComplete="nickname" error={fieldError('displayName')} />
            <Field
              name="password"
              label="Password"
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              error={fieldError('password')}
            />
          </>
        ) : (
          <>
            <Field name="login" label="Username or email" autoComplete="username" required error={fieldError('login')} />
            <Field name="password" label="Password" type="password" autoComplete="current-password" required error={fieldError('password')} />
          </>
        )}
        {error && !error.field ? (
          <p className="form-error" role="alert">
            {error.text}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : registering ? 'Create account' : 'Sign in'}
        </button>
        <p className="auth-switch">
          {registering ? (
            <>Already have an account? {switchLink('login', 'Sign in')}</>
          ) : (
            <>Need an account? {switchLink('register', 'Register')}</>
          )}
        </p>
      </form>
    </main>
  );
}

function Field({
  name,
  label,
  error,
  type = 'text',
  ...rest
}: {
  name: string;
  label: string;
  error: string | null;
  type?: string;
  autoComplete?: string;
  required?: boolean;
  minLength?: number;
}) {
  const id = `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} {...rest} />
      {error ? (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}
