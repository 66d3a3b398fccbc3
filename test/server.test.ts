// Stopping the app (what SIGTERM does): requests in flight are answered, subscriptions end
// so clients reconnect elsewhere, and stop resolves once everything is released.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './support/app.js';
import { signUp } from './support/client.js';
import { subscribe, wsClient } from './support/ws.js';

describe('stop', () => {
  it('answers a request that is still sending its body, closes sockets with 1001, then resolves', async () => {
    const uploadDir = await mkdtemp(path.join(tmpdir(), 'chat-stop-'));
    const server = await startTestServer({ env: { UPLOAD_DIR: uploadDir } });
    const user = await signUp(server.graphqlUrl);
    const closed = new Promise<number>((resolve) => {
      const ws = wsClient(server.wsUrl, user.token, { on: { closed: (e) => resolve((e as CloseEvent).code) } });
      subscribe(ws, `subscription { mentionAdded { id } }`);
    });
    for (let i = 0; server.app.websocket.stats().subscriptions === 0; i++) {
      if (i > 500) throw new Error('subscription never started');
      await new Promise((r) => setTimeout(r, 10));
    }

    // an upload whose body is still on its way when the stop begins
    let finishBody!: () => void;
    const bodyDone = new Promise<void>((r) => (finishBody = r));
    const boundary = 'x-boundary';
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfirst half `));
        await bodyDone;
        controller.enqueue(encoder.encode(`second half\r\n--${boundary}--\r\n`));
        controller.close();
      },
    });
    const upload = fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
    // the request is in flight once its first part is on the server's disk
    for (let i = 0; (await readdir(uploadDir)).length === 0; i++) {
      if (i > 500) throw new Error('the upload never reached the server');
      await new Promise((r) => setTimeout(r, 10));
    }

    const stopped = server.stop();
    expect(await closed).toBe(1001);
    finishBody();
    const res = await upload;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { attachments: unknown[] }).attachments).toHaveLength(1);
    await stopped;
    await rm(uploadDir, { recursive: true, force: true });
  });
});
