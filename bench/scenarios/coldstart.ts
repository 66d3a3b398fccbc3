// Scenario "coldstart": the embedded default as a user starts it. The command is package.json's
// "start" script as it is at run time (with "prestart" in front when there is one), run the
// way npm runs it (sh -c, node_modules/.bin on PATH), without npm's own start-up. Timed from
// spawn to GET /health/ready = 200, on a fresh PGLITE_DATA_DIR, then again on the same
// directory (warm). No DATABASE_URL, no REDIS_URL.
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { binPath, packageScripts } from '../lib/api.js';
import type { Bench } from '../lib/bench.js';
import { freePort, spawnChild, waitFor200 } from '../lib/procs.js';
import { fmtMs, median, wallNow } from '../lib/util.js';

async function startOnce(bench: Bench, script: string, dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = wallNow();
  const child = spawnChild('coldstart', 'sh', ['-c', script], {
    env: {
      ...process.env,
      PATH: binPath(),
      NODE_ENV: 'production',
      JWT_SECRET: bench.jwtSecret,
      PORT: String(port),
      HOST: '127.0.0.1',
      PGLITE_DATA_DIR: dataDir,
      UPLOAD_DIR: path.join(dataDir, '..', 'uploads'),
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  });
  try {
    await waitFor200(`http://127.0.0.1:${port}/health/ready`, 120_000, child, 10);
    return wallNow() - t0;
  } finally {
    await child.stop(10_000);
  }
}

export async function coldstart(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const scripts = packageScripts();
  const script = scripts.prestart ? `${scripts.prestart} && ${scripts.start}` : scripts.start!;
  const fresh: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < k.coldRepeat; i++) {
    const dir = path.join(await mkdtemp(path.join(bench.tmp, 'cold-')), 'pglite');
    console.error(`bench: coldstart ${i + 1}/${k.coldRepeat}: fresh`);
    fresh.push(await startOnce(bench, script, dir));
    console.error(`bench: coldstart ${i + 1}/${k.coldRepeat}: warm`);
    warm.push(await startOnce(bench, script, dir));
  }
  const show = (v: number[]) => `${fmtMs(median(v))}${v.length > 1 ? ` (median of ${v.length}: ${v.map((x) => fmtMs(x)).join(', ')})` : ''}`;
  bench.report.add({
    scenario: `Cold start of the embedded default (\`${script}\`) to /health/ready = 200, fresh PGLITE_DATA_DIR`,
    yardstick: '—',
    api: show(fresh),
    ratio: '—',
    target: '< 2 s',
    met: median(fresh) < 2000,
  });
  bench.report.add({
    scenario: 'Cold start, warm (same data directory, second start)',
    yardstick: '—',
    api: show(warm),
    ratio: '—',
    target: '< 1 s',
    met: median(warm) < 1000,
  });
}
