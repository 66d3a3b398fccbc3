// Builds what `npm start` runs: src/ compiled to dist/, and the pre-migrated embedded database
// template (src/db/template.ts) under node_modules/.cache.
//
//   node scripts/build.mjs                 compile the files that changed since the last build, refresh the template
//   node scripts/build.mjs --check         type-check first (tsconfig.build.json) and fail on errors (`npm run build`)
//   node scripts/build.mjs --postinstall   as the default, but nothing when src/ is absent (Docker's dependency layer)
//   node scripts/build.mjs --template-only / --no-template
//
// Each file is compiled on its own (TypeScript's transpileModule, with tsconfig.build.json's
// options; the project sets isolatedModules, so that is what a whole-program emit produces),
// as tsx does for `npm run dev`: a change of one file recompiles one file, and nothing here
// type-checks unless asked (`npm run typecheck` and CI do). dist/.build.json records every
// source's size and mtime: a source that differs, appears or disappears is rebuilt or removed,
// and a change of TypeScript or of the tsconfig files rebuilds everything.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const BUILD_MANIFEST = path.join(DIST, '.build.json');
const SCHEMA = path.join(ROOT, 'prisma/schema.prisma');
const GENERATED_CLIENT = path.join(SRC, 'generated/prisma/client.ts');
const require = createRequire(path.join(ROOT, 'package.json'));

const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};
const outputOf = (source) => path.join(DIST, source.replace(/\.(m?)ts$/, '.$1js'));

/** What a full rebuild depends on besides the sources themselves. */
function buildKey() {
  const tsVersion = readJson(path.join(ROOT, 'node_modules/typescript/package.json'))?.version ?? 'none';
  const configs = ['tsconfig.json', 'tsconfig.build.json'].map((f) => readFileSync(path.join(ROOT, f), 'utf8'));
  return JSON.stringify({ typescript: tsVersion, configs });
}

/** The Prisma client is generated from schema.prisma: regenerate when the schema is newer. */
export function clientNeedsGenerate() {
  const generated = mtime(GENERATED_CLIENT);
  return generated === undefined || (mtime(SCHEMA) ?? 0) > generated;
}

/** Sources to (re)compile and outputs to remove since the last build. */
export function staleness() {
  const previous = readJson(BUILD_MANIFEST) ?? { key: null, files: {} };
  const key = buildKey();
  const full = previous.key !== key;
  const files = {};
  const stale = [];
  for (const rel of readdirSync(SRC, { recursive: true })) {
    if (!/\.m?ts$/.test(rel) || rel.endsWith('.d.ts')) continue;
    const st = statSync(path.join(SRC, rel));
    if (!st.isFile()) continue;
    const signature = `${st.size}:${st.mtimeMs}`;
    files[rel] = signature;
    if (full || previous.files[rel] !== signature || !existsSync(outputOf(rel))) stale.push(rel);
  }
  const removed = Object.keys(previous.files).filter((rel) => !(rel in files));
  return { key, files, stale, removed };
}

export function sourcesNeedBuild() {
  if (!existsSync(path.join(SRC, 'index.ts'))) return false;
  if (clientNeedsGenerate()) return true;
  const { stale, removed } = staleness();
  return stale.length > 0 || removed.length > 0;
}

function loadTypeScript() {
  try {
    return require('typescript');
  } catch {
    throw new Error('dist/ is out of date and TypeScript is not installed: run `npm install` (with dev dependencies) first.');
  }
}

function compileOptions(ts) {
  const configFile = path.join(ROOT, 'tsconfig.build.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error(`cannot read ${configFile}`);
  // All sources are ES modules ("type": "module"); transpileModule cannot tell without a
  // program, so say so: NodeNext's emit for an ES module is exactly ESNext's.
  const options = { ...parsed.options, module: ts.ModuleKind.ESNext, noEmit: false };
  // resolution and declaration options mean nothing to a per-file compile
  for (const key of ['moduleResolution', 'resolveJsonModule', 'declaration', 'declarationMap', 'composite', 'incremental', 'tsBuildInfoFile']) {
    delete options[key];
  }
  return options;
}

function compile({ quiet }) {
  if (clientNeedsGenerate()) {
    if (!quiet) console.log('build: generating the Prisma client (prisma/schema.prisma changed)');
    const gen = spawnSync(process.execPath, [path.join(ROOT, 'scripts/generate.mjs')], { stdio: 'inherit', cwd: ROOT });
    if (gen.status !== 0) throw new Error('prisma generate failed');
  }
  const { key, files, stale, removed } = staleness();
  if (!stale.length && !removed.length) return 0;
  const ts = loadTypeScript();
  const options = compileOptions(ts);
  const started = Date.now();
  for (const rel of stale) {
    const source = path.join(SRC, rel);
    const { outputText, diagnostics } = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions: options,
      fileName: source,
      reportDiagnostics: true,
    });
    if (diagnostics?.length) {
      throw new Error(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost(ts)));
    }
    const out = outputOf(rel);
    mkdirSync(path.dirname(out), { recursive: true });
    // written beside and renamed: a server starting meanwhile never imports half a file
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, outputText);
    renameSync(tmp, out);
  }
  for (const rel of removed) rmSync(outputOf(rel), { force: true });
  mkdirSync(DIST, { recursive: true });
  writeFileSync(BUILD_MANIFEST, JSON.stringify({ key, files }));
  if (!quiet) {
    const what = stale.length === Object.keys(files).length ? 'all' : String(stale.length);
    console.log(`build: compiled ${what} of ${Object.keys(files).length} files to dist/ in ${Date.now() - started} ms`);
  }
  return stale.length;
}

const formatHost = (ts) => ({
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => ROOT,
  getNewLine: () => ts.sys.newLine,
});

/** tsc -p tsconfig.build.json --noEmit, through the locally installed TypeScript. */
function typeCheck() {
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noEmit'], { stdio: 'inherit', cwd: ROOT });
  if (result.status !== 0) throw new Error('type errors (tsc -p tsconfig.build.json --noEmit)');
}

async function ensureTemplate({ quiet }) {
  const { buildTemplate } = await import(pathToFileURL(path.join(DIST, 'db/template.js')).href);
  const started = Date.now();
  if (await buildTemplate()) {
    if (!quiet) console.log(`build: made the pre-migrated embedded database template in ${Date.now() - started} ms`);
  }
}

export async function build({ check = false, template = true, sources = true, quiet = false } = {}) {
  if (check) typeCheck();
  if (sources) compile({ quiet });
  if (template) await ensureTemplate({ quiet });
}

async function main(args) {
  const postinstall = args.includes('--postinstall');
  if (postinstall && !existsSync(path.join(SRC, 'index.ts'))) {
    console.log('build: no sources yet (src/index.ts); run `npm run build` once they are there.');
    return;
  }
  try {
    await build({
      check: args.includes('--check'),
      template: !args.includes('--no-template'),
      sources: !args.includes('--template-only'),
    });
  } catch (err) {
    if (!postinstall) throw err;
    // An install does not fail for this: `npm start` builds again and reports the problem.
    console.warn(`build: not built at install (${err instanceof Error ? err.message : err}); npm start will retry.`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main(process.argv.slice(2));
    // Prisma's schema engine leaves a lock-timeout timer behind; do not wait for it.
    process.exit(0);
  } catch (err) {
    console.error(`build failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
