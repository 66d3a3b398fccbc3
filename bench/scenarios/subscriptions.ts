// Scenario "subscriptions": N subscriptions opened on one socket, time until all are live.
//
// graphql-ws acknowledges no subscription, so "live" is observed: right after the N subscribe
// frames are written, probe messages are sent at a fixed interval (open loop: a busy server
// does not space them out), each carrying its send time. A subscription is live by the time the
// first probe it received was sent (its deliveries arrive in send order). All N are live by the
// latest of those send times: the figure is that minus the time the first subscribe frame was
// written. The previous probe, one interval earlier, missed at least one subscription, so the
// resolution is the interval (100 ms for 1,000 subscriptions, N/10 ms above). A probe's own
// send → delivery latency is not in the figure: its time is taken before its sendMessage.
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
    const intervalMs = Math.max(100, n / 10);
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
      const limitMs = Math.max(30_000, n * 5);
      const probing = bench.sender!.send({
        target: 'api',
        mode: 'rate',
        phase: 'probe',
        slots: [{ url: a!.graphqlUrl, token: prober.token, channel: channel!.id }],
        rate: 1000 / intervalMs,
        durationMs: limitMs,
        maxInFlight: 64,
      });
      let cov = { covered: 0, count: 0, maxFirstSent: 0 };
      while (wallNow() - t0 < limitMs) {
        cov = await worker.covered('probe');
        if (cov.covered >= n) break;
        await sleep(50);
      }
      await bench.sender!.abort();
      const sent = await probing;
      if (cov.covered >= n) {
        const live = cov.maxFirstSent - t0;
        result = `${fmtMs(live)} (probes every ${fmtMs(intervalMs)}, ${sent.ok} sent; frames written in ${fmtMs(conn.lastSubscribeAt - t0)})`;
        met = n === 1000 ? live < 1000 : undefined;
      } else {
        const st = await worker.stats([]);
        const trouble = `${st.unexpectedCloses ? `; socket closed (codes ${JSON.stringify(st.closeCodes)})` : ''}${st.firstError ? `; ${st.errors} errors, first: ${st.firstError.slice(0, 120)}` : ''}`;
        result = `not all live after ${fmtMs(wallNow() - t0)}: ${fmtInt(cov.covered)} of ${fmtInt(n)}${sent.failed ? `; ${sent.failed} probes failed (${sent.firstError.slice(0, 100)})` : ''}${trouble}`;
        met = n === 1000 ? false : undefined;
      }
    } catch (err) {
      result = `failed: ${(err as Error).message.slice(0, 160)}`;
      met = n === 1000 ? false : undefined;
    } finally {
      await bench.sender!.abort().catch(() => {});
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
