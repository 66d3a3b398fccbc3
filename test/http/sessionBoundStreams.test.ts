// Server-Sent Events subscriptions end with UNAUTHENTICATED when their session does: on
// sign-out at once, and when the access token expires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, localId, send, signUp } from '../support/client.js';

let server: TestServer;
let shortLived: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  // Expiry is in whole seconds: a 3 s token outlives the set-up of one stream.
  shortLived = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: '3' } });
});
afterAll(async () => {
  await shortLived?.stop();
  await server?.stop();
});

/** Opens an SSE subscription to the channel and returns a reader of its whole text. */
async function openStream(client: Client, channelId: string, target = server) {
  const res = await fetch(target.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${client.token}` },
    body: JSON.stringify({ query: `subscription($c: ID!) { messageAdded(channelId: $c) { content } }`, variables: { c: channelId } }),
  });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    /** reads until the text contains `what`, or the stream ends; resolves to everything read */
    async until(what: string) {
      while (!text.includes(what)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      return text;
    },
    /** resolves to everything read once the server has ended the stream */
    async toEnd() {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += decoder.decode(value);
      }
    },
  };
}

describe('an SSE subscription', () => {
  it('ends with UNAUTHENTICATED when its session signs out', async () => {
    const user = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(user, 'Streams');
    const stream = await openStream(user, generalId);
    await waitForListener(server, 'messageAdded', localId(generalId));
    await send(user, generalId, 'before sign-out');
    expect(await stream.until('before sign-out')).toContain('"content":"before sign-out"');
    await user.ok(`mutation($t: String!) { logout(refreshToken: $t) }`, { t: user.refreshToken });
    const text = await stream.toEnd();
    expect(text).toContain('"code":"UNAUTHENTICATED"');
    expect(text).toContain('session behind this subscription ended');
  });

  it('ends with UNAUTHENTICATED when its access token expires', async () => {
    const user = await signUp(shortLived.graphqlUrl);
    const { generalId } = await createGuild(user, 'Expiring');
    const stream = await openStream(user, generalId, shortLived);
    const text = await stream.toEnd();
    expect(text).toContain('"code":"UNAUTHENTICATED"');
    expect(text).toContain('expired');
  });
});
