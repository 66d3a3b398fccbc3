import { type FormEvent, useState } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { navigate, paths } from '../../lib/router';
import { Dialog } from '../../ui/Dialog';

const CreateGuild = graphql(`
  mutation CreateGuild($input: CreateGuildInput!) {
    createGuild(input: $input) {
      id
      name
      channels {
        id
      }
    }
  }
`);

export function CreateGuildDialog({ onClose }: { onClose: () => void }) {
  const [{ fetching }, createGuild] = useMutation(CreateGuild);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await createGuild({
      input: {
        name: String(form.get('name') ?? '').trim(),
        description: String(form.get('description') ?? '').trim() || undefined,
        isPublic: form.get('isPublic') === 'on',
      },
    });
    if (result.data) {
      onClose();
      navigate(paths.guild(result.data.createGuild.id, result.data.createGuild.channels[0]?.id));
    } else setError(describeError(result.error, 'create the server'));
  }
  return (
    <Dialog title="Create a server" onClose={onClose}>
      <form onSubmit={submit} className="form">
        <div className="field">
          <label htmlFor="guild-name">Server name</label>
          <input id="guild-name" name="name" required maxLength={100} autoFocus />
        </div>
        <div className="field">
          <label htmlFor="guild-description">Description (optional)</label>
          <input id="guild-description" name="description" maxLength={500} />
        </div>
        <label className="checkbox">
          <input type="checkbox" name="isPublic" /> Public: anyone can find and join it
        </label>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="button-row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={fetching}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
