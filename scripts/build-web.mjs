// Builds the web client (web/ → web/dist/, served by the API at /) when its sources are newer
// than the last build; otherwise does nothing. Run by `npm install` (postinstall) and by the
// browser tests; `node scripts/build-web.mjs --force` rebuilds anyway.
//
// A build is: codegen (web/src/gql from schema.graphql and the graphql() calls), a strict
// typecheck of web/ (web/tsconfig.json), then Vite. It prints every asset's size, raw and
// gzip'd, and fails when the JavaScript of the first load (the entry script and the chunks
// index.html preloads) exceeds 250 KB gzip'd.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WEB = path.join(ROOT, 'web');
const DIST = path.join(WEB, 'dist');
const STAMP = path.join(DIST, '.build-info.json');
const LOCK = path.join(WEB, '.build-lock');
export const FIRST_LOAD_BUDGET_BYTES = 250 * 1000;

const args = new Set(process.argv.slice(2));
const force = args.has('--force');

/** What a build depends on, besides web/: the schema, codegen's config, the locked versions. */
const INPUTS = [
  path.join(WEB, 'src'),
  path.join(WEB, 'public'),
  path.join(WEB, 'index.html'),
  path.join(WEB, 'vite.config.ts'),
  path.join(WEB, 'tsconfig.json'),
  path.join(ROOT, 'schema.graphql'),
  path.join(ROOT, 'codegen.ts'),
  path.join(ROOT, 'package-lock.json'),
];
const GENERATED = path.join(WEB, 'src', 'gql');

function newestMtime(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  if (file === GENERATED) return 0;
  let newest = 0;
  for (const entry of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

function log(message) {
  console.log(`[build-web] ${message}`);
}

function run(command, commandArgs, what) {
  const started = Date.now();
  const result = spawnSync(command, commandArgs, { cwd: ROOT, stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    log(`${what} failed`);
    process.exit(result.status ?? 1);
  }
  log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function bin(pkg, binName) {
  const require = createRequire(path.join(ROOT, 'package.json'));
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const relative = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[binName];
  return path.join(path.dirname(manifestPath), relative);
}

function isStale() {
  if (force) return true;
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return true;
  }
  if (!fs.existsSync(path.join(DIST, 'index.html'))) return true;
  const newest = Math.max(...INPUTS.map(newestMtime));
  return newest > stamp.sourcesMtimeMs;
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

/** Every file of dist/ with its raw and gzip'd size; the first load's JS summed. */
export function measure(distDir = DIST) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.startsWith('.')) {
        const body = fs.readFileSync(full);
        files.push({ file: path.relative(distDir, full), bytes: body.length, gzip: gzipSync(body, { level: 9 }).length });
      }
    }
  };
  walk(distDir);
  const html = fs.readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const firstLoad = new Set();
  for (const match of html.matchAll(/<script[^>]+src="\/([^"]+\.js)"/g)) firstLoad.add(match[1]);
  for (const match of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g)) firstLoad.add(match[1]);
  const firstLoadJs = files.filter((f) => firstLoad.has(f.file.split(path.sep).join('/')));
  return {
    files,
    firstLoadJsGzip: firstLoadJs.reduce((sum, f) => sum + f.gzip, 0),
    firstLoadJsBytes: firstLoadJs.reduce((sum, f) => sum + f.bytes, 0),
    firstLoadFiles: firstLoadJs.map((f) => f.file),
  };
}

function report(sizes) {
  const width = Math.max(...sizes.files.map((f) => f.file.length));
  for (const f of sizes.files.sort((a, b) => b.gzip - a.gzip)) {
    log(`  ${f.file.padEnd(width)}  ${kb(f.bytes).padStart(9)}  ${kb(f.gzip).padStart(9)} gzip`);
  }
  log(
    `first load: ${kb(sizes.firstLoadJsGzip)} of JavaScript gzip'd (${kb(sizes.firstLoadJsBytes)} raw, ` +
      `${sizes.firstLoadFiles.length} file${sizes.firstLoadFiles.length === 1 ? '' : 's'}); budget ${kb(FIRST_LOAD_BUDGET_BYTES)}`,
  );
}

async function withLock(fn) {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 5 * 60_000) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${LOCK} is held by another build`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

async function main() {
  if (!fs.existsSync(path.join(WEB, 'index.html'))) {
    log('no web/ here (an API-only install): nothing to build');
    return;
  }
  await withLock(async () => {
    if (!isStale()) {
      log('web/dist is up to date');
      return;
    }
    let vite;
    try {
      vite = await import('vite');
    } catch {
      // npm install --omit=dev: the build tools are devDependencies
      const has = fs.existsSync(path.join(DIST, 'index.html'));
      log(`vite is not installed (devDependencies omitted?): ${has ? 'keeping the existing web/dist' : 'the web client is not built'}`);
      return;
    }
    const sourcesMtimeMs = Math.max(...INPUTS.map(newestMtime));
    const started = Date.now();
    run(process.execPath, [bin('@graphql-codegen/cli', 'graphql-codegen'), '--config', 'codegen.ts', '--silent'], 'codegen');
    run(process.execPath, [bin('typescript', 'tsc'), '-p', 'web/tsconfig.json'], 'typecheck (web/tsconfig.json)');
    const viteStarted = Date.now();
    await vite.build({ root: WEB, configFile: path.join(WEB, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
    log(`vite build: ${((Date.now() - viteStarted) / 1000).toFixed(1)} s`);
    const sizes = measure();
    report(sizes);
    if (sizes.firstLoadJsGzip > FIRST_LOAD_BUDGET_BYTES) {
      log(`FAILED: the first load's JavaScript (${kb(sizes.firstLoadJsGzip)} gzip'd) is over the ${kb(FIRST_LOAD_BUDGET_BYTES)} budget`);
      fs.rmSync(STAMP, { force: true });
      process.exitCode = 1;
      return;
    }
    fs.writeFileSync(
      STAMP,
      `${JSON.stringify({ builtAt: new Date().toISOString(), sourcesMtimeMs, firstLoadJsGzip: sizes.firstLoadJsGzip, firstLoadFiles: sizes.firstLoadFiles }, null, 2)}\n`,
    );
    log(`built web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
