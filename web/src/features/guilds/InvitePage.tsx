// /invite/<code>: joins at once (after sign-in, when the link was opened signed out).
import { useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import { describeError, errorCode } from '../../lib/errors';
import { Link, navigate, paths } from '../../lib/router';

const JoinGuild = graphql(`
  mutation JoinGuild($code: String!) {
    joinGuild(inviteCode: $code) {
      id
      name
      channels {
        id
      }
    }
  }
`);

export function InvitePage({ code }: { code: string }) {
  const [, join] = useMutation(JoinGuild);
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void join({ code }).then((result) => {
      if (result.data) {
        const guild = result.data.joinGuild;
        navigate(paths.guild(guild.id, guild.channels[0]?.id), { replace: true });
      } else {
        setError(
          errorCode(result.error) === 'NOT_FOUND'
            ? 'This invite is invalid or has expired.'
            : describeError(result.error, 'join with this invite'),
        );
      }
    });
  }, [code, join]);
  return (
    <main className="main empty-page">
      {error ? (
        <>
          <h1>Could not join</h1>
          <p role="alert">{error}</p>
          <Link className="button" href={paths.home()}>
            Go home
          </Link>
        </>
      ) : (
        <p role="status">Joining…</p>
      )}
    </main>
  );
}
