// npm start: runs the compiled server (dist/index.js). When a source, the Prisma schema or the
// TypeScript configuration changed since the last build (a `git pull`, an edit), the changed
// files are compiled first (scripts/build.mjs, about a second), so the server never runs stale
// code; `npm run dev` runs the sources through tsx instead. A fresh embedded database whose
// pre-migrated template is missing or out of date (new migrations) gets the template made
// first, which costs what the first start would have spent migrating anyway.
import { spawnSync } from 'node:child_process';
import module from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, sourcesNeedBuild } from './build.mjs';

// Node >= 22.1 caches compiled JavaScript between runs (a no-op on Node 20).
module.enableCompileCache?.(path.join(ROOT, 'node_modules/.cache/node-compile-cache'));

const dist = (file) => pathToFileURL(path.join(ROOT, 'dist', file)).href;

function runBuild(args) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), ...args], { stdio: 'inherit', cwd: ROOT });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (sourcesNeedBuild()) runBuild(['--no-template']);

if (!process.env.DATABASE_URL) {
  const [{ loadConfig }, { isFreshDataDir, templateMatches }, { preopenDatabase }, { isInMemory }] = await Promise.all([
    import(dist('config.js')),
    import(dist('db/template.js')),
    import(dist('db/client.js')),
    import(dist('db/pgliteProtocol.js')),
  ]);
  let dataDir;
  try {
    dataDir = loadConfig().PGLITE_DATA_DIR;
  } catch {
    // a configuration error: dist/index.js reports it
  }
  if (dataDir !== undefined) {
    const fresh = isInMemory(dataDir) || (await isFreshDataDir(dataDir).catch(() => false));
    if (fresh && !(await templateMatches())) runBuild(['--template-only']);
    // start the database now rather than after index.js's own imports (src/index.ts does the same, a no-op then)
    preopenDatabase({ pgliteDataDir: dataDir });
  }
}

await import(dist('index.js'));
