// Scenario "subscriptions": N subscriptions opened on one socket, time until all are live.
//
// graphql-ws acknowledges no subscription, so "live" is observed: after writing the N subscribe
// frames, probe messages are sent one after another, each as soon as the previous one's
// deliveries stopped arriving. A subscription is live by the time a probe it received was
// published. The figure is the time from the first subscribe frame to the send of the first
// probe that reached all N; the previous probe missed at least one, so the true time lies
// between that probe's send and this one's (both shown). Probe send latency is not included:
// a probe's start time is taken before its sendMessage, the publish happens inside it.
import type { Bench } from '../lib/bench.js';
import { MESSAGE_ADDED } from '../lib/operations.js';
import { fmtInt, fmtMs, sleep, wallNow } from '../lib/util.js';

export async function subscriptions(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const [a] = await bench.ensureInstances(1);
  await bench.ensureWorkers();
  const users = await bench.ensureUsers(1);
  const prober = users[users.length - 1]!;
  const [channel] = await bench.ensureChannels(['probe']);
  const worker = bench.workers[0]!;

  for (const n of k.subsOnSocket) {
    console.error(`bench: subscriptions: ${n} on one socket`);
    let result = '';
    let met: boolean | undefined;
    try {
      const conn = await worker.connect({
        kind: 'api',
        conns: [{ url: a!.wsUrl, token: bench.owner!.token, subs: Array.from({ length: n }, () => ({ query: MESSAGE_ADDED, variables: { channelId: channel!.id } })) }],
        concurrency: 1,
        timeoutMs: 30_000,
      });
      if (conn.failed) throw new Error(`socket failed: ${conn.firstError}`);
      const t0 = conn.firstSubscribeAt;
      const deadline = t0 + Math.max(30_000, n * 10);
      let previousSend = Number.NaN;
      let found = Number.NaN;
      let covered = 0;
      let probes = 0;
      while (wallNow() < deadline) {
        const phase = `probe${probes++}`;
        const sentAt = wallNow();
        const r = await bench.sender!.send({ target: 'api', mode: 'once', phase, slots: [{ url: a!.graphqlUrl, token: prober.token, channel: channel!.id }] });
        if (!r.ok) throw new Error(`probe send failed: ${r.firstError}`);
        // wait until this probe's deliveries stop arriving
        let last = -1;
        let since = wallNow();
        for (;;) {
          covered = (await worker.covered(phase)).covered;
          if (covered >= n) break;
          if (covered !== last) {
            last = covered;
            since = wallNow();
          } else if (wallNow() - since > 150) break;
          await sleep(20);
        }
        if (covered >= n) {
          found = sentAt;
          break;
        }
        previousSend = sentAt;
      }
      if (Number.isFinite(found)) {
        const upper = found - t0;
        const lower = Number.isFinite(previousSend) ? previousSend - t0 : 0;
        result = `${fmtMs(upper)} (between ${fmtMs(lower)} and ${fmtMs(upper)}; ${probes} probes; frames written in ${fmtMs(conn.lastSubscribeAt - t0)})`;
        met = n === 1000 ? upper < 1000 : undefined;
      } else {
        result = `not all live after ${fmtMs(wallNow() - t0)}: ${fmtInt(covered)} of ${fmtInt(n)}`;
        met = n === 1000 ? false : undefined;
      }
    } catch (err) {
      result = `failed: ${(err as Error).message.slice(0, 160)}`;
      met = n === 1000 ? false : undefined;
    } finally {
      await worker.disconnect();
    }
    bench.report.add({
      scenario: `${fmtInt(n)} subscriptions opened on one socket: time until all are live`,
      yardstick: '—',
      api: result,
      ratio: '—',
      target: n === 1000 ? '< 1 s' : '—',
      met,
    });
  }
}
