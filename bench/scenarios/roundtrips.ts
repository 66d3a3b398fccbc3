// Scenario "roundtrips": database round trips per operation, counted at the wire by a proxy in
// front of PostgreSQL (bench/pgProxy.ts says what counts). A dedicated API instance has its
// DATABASE_URL pointed at the proxy and serves nothing else while an operation is counted.
import { startApi } from '../lib/api.js';
import type { Bench, User } from '../lib/bench.js';
import { gql } from '../lib/http.js';
import { ADD_REACTION, HISTORY_PAGE, SEND_MESSAGE, VIEWER } from '../lib/operations.js';
import { post } from '../lib/http.js';
import { median, pool } from '../lib/util.js';
import { CountingProxy, type ProxyCounts } from '../pgProxy.js';
import { startInsertPublish } from './send.js';

const QUIET_MS = 300;

/** Counts one operation: quiet wire, reset, run, wait for the wire to go quiet again. */
async function count(proxy: CountingProxy, op: () => Promise<unknown>): Promise<ProxyCounts> {
  await proxy.waitQuiet(QUIET_MS, 5000);
  proxy.reset();
  await op();
  await proxy.waitQuiet(QUIET_MS, 5000);
  return proxy.snapshot();
}

async function repeat(proxy: CountingProxy, times: number, op: () => Promise<unknown>) {
  // the first call of a session on a fresh instance meets empty caches (the session cache, for
  // one) and opens pool connections; it is shown apart, then one more warm-up
  const first = await count(proxy, op);
  await count(proxy, op);
  const runs: ProxyCounts[] = [];
  for (let i = 0; i < times; i++) runs.push(await count(proxy, op));
  const trips = runs.map((r) => r.roundTrips);
  const requests = runs.map((r) => r.requests);
  return {
    trips: median(trips),
    min: Math.min(...trips),
    max: Math.max(...trips),
    requests: median(requests),
    connections: Math.max(...runs.map((r) => r.connections)),
    first: first.roundTrips,
    statements: runs[runs.length - 1]!.statements,
  };
}

const show = (r: Awaited<ReturnType<typeof repeat>>) =>
  `${r.trips}${r.min !== r.max ? ` (${r.min}–${r.max})` : ''} round trip${r.trips === 1 ? '' : 's'}${r.requests !== r.trips ? `, ${r.requests} requests` : ''}${r.connections ? `, ${r.connections} new connections` : ''}${r.first !== r.trips ? `; first call on a fresh instance: ${r.first}` : ''}`;

/** A channel with 60 messages: 3 authors, replies, reactions (some the viewer's), 5 attachments. */
async function seedHistory(bench: Bench, graphqlUrl: string, authors: User[], viewer: User, channelId: string) {
  const uploadUrl = graphqlUrl.replace(/\/graphql$/, '/uploads');
  const ids: string[] = [];
  for (let i = 0; i < 60; i++) {
    const author = authors[i % authors.length]!;
    let attachmentIds: string[] | undefined;
    if (i % 12 === 5) {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from(`attachment ${i} of the benchmark`)], { type: 'text/plain' }), `note${i}.txt`);
      const res = await fetch(uploadUrl, { method: 'POST', headers: { authorization: `Bearer ${author.token}` }, body: form });
      const body = (await res.json()) as { attachments?: { id: string }[] };
      if (!body.attachments?.length) throw new Error(`upload failed: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      attachmentIds = body.attachments.map((a) => a.id);
    }
    const { sendMessage } = await gql<{ sendMessage: { id: string } }>(graphqlUrl, author.token, SEND_MESSAGE, {
      input: {
        channelId,
        content: `history message ${i}: lorem ipsum dolor sit amet`,
        ...(i % 4 === 3 && ids.length ? { replyToId: ids[ids.length - 2] } : {}),
        ...(attachmentIds ? { attachmentIds } : {}),
      },
    });
    ids.push(sendMessage.id);
  }
  const reactors = [...authors, viewer];
  await pool(ids.length, 4, async (i) => {
    if (i % 3) return;
    for (const [j, u] of reactors.entries()) {
      if ((i + j) % 2) continue;
      await gql(graphqlUrl, u.token, ADD_REACTION, { messageId: ids[i], emoji: j % 2 ? '🎉' : '👍' });
    }
  });
}

export async function roundtrips(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const [a] = await bench.ensureInstances(1);
  const users = await bench.ensureUsers(4);
  const [sender, viewer, ...authors] = users.slice(users.length - 4);
  const [rt, sendbench] = await bench.ensureChannels(['rt-history', 'rt-send']);
  await seedHistory(bench, a!.graphqlUrl, authors, viewer!, rt!.id);
  await bench.dbIds([sender!]);

  const url = new URL(bench.scratch!.url);
  const proxy = new CountingProxy(url.hostname, Number(url.port || 5432));
  await proxy.start();
  const p = await startApi('api-counted', bench.apiEnv({ DATABASE_URL: proxy.url(bench.scratch!.url) }));
  try {
    const sendOp = () =>
      gql(p.graphqlUrl, sender!.token, SEND_MESSAGE, { input: { channelId: sendbench!.id, content: 'counted message, lorem ipsum' } });
    const historyOp = () => gql(p.graphqlUrl, viewer!.token, HISTORY_PAGE, { channelId: rt!.id });
    const viewerOp = () => gql(p.graphqlUrl, viewer!.token, VIEWER);
    // check the page really carries what is counted
    const page = await historyOp();
    const edges = (page as { channel: { messages: { edges: { node: Record<string, unknown[] | unknown> }[] } } }).channel.messages.edges;
    const withReplies = edges.filter((e) => e.node.replyTo).length;
    const withReactions = edges.filter((e) => (e.node.reactions as unknown[]).length).length;
    const withAttachments = edges.filter((e) => (e.node.attachments as unknown[]).length).length;

    const send = await repeat(proxy, k.rtRepeat, sendOp);
    const history = await repeat(proxy, k.rtRepeat, historyOp);
    const view = await repeat(proxy, k.rtRepeat, viewerOp);
    await p.stop();

    const ip = await startInsertPublish(bench, proxy.url(bench.scratch!.url), 'insert-publish-counted');
    const yard = await repeat(proxy, k.rtRepeat, () =>
      post(`${ip.url}/send`, JSON.stringify({ channelId: sendbench!.dbId, authorId: sender!.dbId, content: 'counted yardstick message' })),
    );
    await ip.child.stop();

    bench.report.add({
      scenario: 'Database round trips (counted at the wire): sendMessage, authentication included',
      yardstick: `INSERT + PUBLISH: ${show(yard)}`,
      api: show(send),
      ratio: '—',
      target: '≤ 3',
      met: send.trips <= 3,
    });
    bench.report.add({
      scenario: `Database round trips: history page of ${edges.length} messages with author, attachments, reactions { emoji count viewerReacted }, replyTo { id content author { id } }`,
      yardstick: '—',
      api: show(history),
      ratio: '—',
      target: '≤ 3',
      met: history.trips <= 3,
    });
    bench.report.add({ scenario: 'Database round trips: viewer', yardstick: '—', api: show(view), ratio: '—', target: '≤ 1', met: view.trips <= 1 });
    bench.report.note(
      `round trips: the page had ${withReplies} replies, ${withReactions} messages with reactions, ${withAttachments} with attachments; median of ${k.rtRepeat} after 2 warm-ups (the first one shown when it differs)`,
    );
    if (k.verbose) {
      for (const [name, r] of [
        ['sendMessage', send],
        ['history page', history],
        ['viewer', view],
        ['INSERT + PUBLISH', yard],
      ] as const)
        bench.report.note(`statements of ${name}: ${r.statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 100)).join(' ‖ ')}`);
    }
  } finally {
    await p.stop();
    await proxy.stop();
  }
}
