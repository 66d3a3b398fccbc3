// Builds what `npm start` runs: src/ compiled to dist/ (and the voice media node, media/src/, to dist/media/), and the pre-migrated embedded database
// template (src/db/template.ts) under node_modules/.cache.
//
//   node scripts/build.mjs                 build when anything changed since the last build, refresh the template
//   node scripts/build.mjs --check         type-check first (tsconfig.build.json) and fail on errors (`npm run build`)
//   node scripts/build.mjs --postinstall   as the default, but nothing when src/ is absent (Docker's dependency layer),
//                                          and a failure only warns (npm start retries and reports it)
//   node scripts/build.mjs --template-only / --no-template
//
// esbuild compiles the TypeScript as tsx does for `npm run dev` (same compiler, same
// tsconfig), and does not type-check (`npm run typecheck` and CI do). Every source file
// becomes the file of the same path under dist/ (dist/db/client.js for src/db/client.ts, so
// import.meta.url and every path computed from it stay what they are under tsx); only the
// third-party JavaScript they import is bundled, once, into dist/_vendor/ chunks: Node's ESM
// loader then reads a few dozen files at start-up instead of about 1,200 (a third of the
// start-up CPU). Packages that must stay where npm put them are left external:
//   - native code, WebAssembly, worker scripts or files read relative to the package
//     (found by scanning each package for __dirname, import.meta, require.resolve and the like),
//   - everything their code loads (the build bundles them on the side to see it), so that no
//     package is ever loaded twice, once bundled and once from node_modules,
//   - and any bundled package whose externals would resolve differently from dist/ than from
//     where it is (a nested node_modules).
// dist/.build.json records each source's size and mtime plus what else the output depends on
// (esbuild, the tsconfig files, package-lock.json): anything different rebuilds dist/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
/** Every source tree and where under dist/ it goes: the API's, and the media node's (run on its own or in-process). */
const SOURCE_ROOTS = [
  { dir: SRC, out: '' },
  { dir: path.join(ROOT, 'media/src'), out: 'media/' },
];
const DIST = path.join(ROOT, 'dist');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const BUILD_MANIFEST = path.join(DIST, '.build.json');
const SCHEMA = path.join(ROOT, 'prisma/schema.prisma');
const GENERATED_CLIENT = path.join(SRC, 'generated/prisma/client.ts');
const VENDOR = '_vendor';
const require = createRequire(path.join(ROOT, 'package.json'));

/** Never bundled, whatever the scan says: native addons, WebAssembly, engines, worker-based logging. */
const ALWAYS_EXTERNAL = ['argon2', '@electric-sql/pglite', 'pglite-prisma-adapter', '@prisma/*', 'prisma', 'pino', 'pg', 'pg-native'];
/** What in a package's code means it depends on where its files are. */
const LOCATION_DEPENDENT = /\b__dirname\b|\b__filename\b|\bimport\.meta\b|\brequire\.resolve\b|\bcreateRequire\b|\bnew Worker\b|\.node['"]|\bprocess\.dlopen\b|\bnode-gyp-build\b/;

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
const hashFile = (file) => {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'none';
  }
};

/** What the output depends on besides the sources themselves. */
function buildKey() {
  return JSON.stringify({
    builder: hashFile(fileURLToPath(import.meta.url)),
    esbuild: readJson(path.join(NODE_MODULES, 'esbuild/package.json'))?.version ?? 'none',
    configs: ['tsconfig.json', 'tsconfig.build.json'].map((f) => hashFile(path.join(ROOT, f))),
    dependencies: hashFile(path.join(ROOT, 'package-lock.json')),
  });
}

/** The Prisma client is generated from schema.prisma: regenerate when the schema is newer. */
export function clientNeedsGenerate() {
  const generated = mtime(GENERATED_CLIENT);
  return generated === undefined || (mtime(SCHEMA) ?? 0) > generated;
}

/** Each source file, keyed by its path under dist/ (with the .ts extension), with its size and mtime. */
function sourceSignatures() {
  const files = {};
  for (const root of SOURCE_ROOTS) {
    if (!existsSync(root.dir)) continue;
    for (const rel of readdirSync(root.dir, { recursive: true })) {
      if (!/\.m?ts$/.test(rel) || rel.endsWith('.d.ts')) continue;
      const st = statSync(path.join(root.dir, rel));
      if (st.isFile()) files[root.out + rel.split(path.sep).join('/')] = `${st.size}:${st.mtimeMs}`;
    }
  }
  return files;
}

/** The entry point of a key of sourceSignatures(): its source file, and its output path under dist/ without extension. */
function entryOf(key) {
  const root = SOURCE_ROOTS.find((r) => r.out && key.startsWith(r.out)) ?? SOURCE_ROOTS[0];
  return { in: path.join(root.dir, key.slice(root.out.length)), out: key.replace(/\.m?ts$/, '') };
}

const isSource = (file) => SOURCE_ROOTS.some((r) => file.startsWith(r.dir + path.sep));
const rootOf = (file) => SOURCE_ROOTS.find((r) => file.startsWith(r.dir + path.sep));

/** Whether dist/ is missing or older than the sources, the Prisma schema or the build inputs. */
export function sourcesNeedBuild() {
  if (!existsSync(path.join(SRC, 'index.ts'))) return false;
  if (clientNeedsGenerate()) return true;
  const previous = readJson(BUILD_MANIFEST);
  if (!previous || previous.key !== buildKey()) return true;
  return JSON.stringify(previous.files) !== JSON.stringify(sourceSignatures());
}

function loadEsbuild() {
  try {
    return require('esbuild');
  } catch {
    throw new Error('dist/ is out of date and esbuild is not installed: run `npm install` (with dev dependencies) first.');
  }
}

/** The directory of a package as Node resolves it from `fromDir` (nested node_modules first). */
function packageDirFrom(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const packageNameOf = (specifier) => {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/** A package file's package: its directory and name (the innermost node_modules/<name>). */
function owningPackage(file) {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(path.sep);
  const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  return { name, dir: path.join(file.slice(0, at + marker.length), name) };
}

/** Every package `dir` depends on, transitively, as directories. */
function dependencyClosure(dir, seen = new Set()) {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const pkg = readJson(path.join(dir, 'package.json')) ?? {};
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
    const found = packageDirFrom(name, dir);
    if (found) dependencyClosure(found, seen);
  }
  return seen;
}

const SCAN_CACHE = path.join(NODE_MODULES, '.cache/chat-backend/location-scan.json');

/**
 * Whether a package file's code (not its comments) mentions what makes code depend on where
 * it is. esbuild parses and reprints the file without comments first, so a mention in a doc
 * comment does not count; one inside a string still does (erring towards leaving it alone).
 * Verdicts are cached by path, size and mtime.
 */
async function usesItsLocation(esbuild, file, cache) {
  const st = statSync(file);
  const key = `${file}:${st.size}:${st.mtimeMs}`;
  if (key in cache) return cache[key];
  const code = readFileSync(file, 'utf8');
  let verdict = false;
  if (LOCATION_DEPENDENT.test(code) && !file.endsWith('.json')) {
    try {
      const loader = /\.[cm]?tsx?$/.test(file) ? 'ts' : 'js';
      const printed = await esbuild.transform(code, { loader, minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' });
      verdict = LOCATION_DEPENDENT.test(printed.code);
    } catch {
      verdict = true;
    }
  }
  cache[key] = verdict;
  return verdict;
}

function bundleOptions(entryPoints, external, outdir) {
  return {
    entryPoints,
    outbase: SRC,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    tsconfig: path.join(ROOT, 'tsconfig.build.json'),
    chunkNames: `${VENDOR}/[name]-[hash]`,
    external,
    // keepNames would wrap every function and class expression in a __name() call that
    // defines its .name at run time: on the request path (envelop's and graphql-js's
    // per-request closures) that was ~5 % of a send's CPU. Nothing here reads the name of a
    // function esbuild renamed; errors are told apart by instanceof and their codes.
    keepNames: false,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    absWorkingDir: ROOT,
    // bundled CommonJS calls require() for Node's modules and the external packages
    banner: { js: "import { createRequire as __chatCreateRequire } from 'node:module'; const require = __chatCreateRequire(import.meta.url);" },
    plugins: [
      {
        // graphql-js ships CommonJS as its main and ES modules beside it (.mjs, no exports
        // map): every import of it, deep ones too, takes the ES modules, so there is one copy
        // and its exports are bindings, not the getters of CommonJS interop that execution
        // would read on every field
        name: 'graphql-as-esm',
        setup(build) {
          build.onResolve({ filter: /^graphql(\/.*)?$/ }, async (args) => {
            if (args.pluginData?.graphqlEsm) return undefined;
            const target = args.path === 'graphql' ? 'graphql/index.mjs' : `${args.path.replace(/\.m?js$/, '')}.mjs`;
            const resolved = await build.resolve(target, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { graphqlEsm: true } });
            return resolved.errors.length ? undefined : resolved;
          });
        },
      },
      {
        // every source file is an entry of its own: between them imports stay as written
        name: 'sources-stay-files',
        setup(build) {
          build.onResolve({ filter: /^\.\.?\// }, (args) => {
            if (args.kind === 'entry-point' || !isSource(args.importer)) return undefined;
            const from = rootOf(args.importer);
            const target = path.resolve(path.dirname(args.importer), args.path);
            const to = rootOf(target);
            if (!to || to === from) return { path: args.path, external: true };
            // an import across source trees (the API starting the media node in-process): the
            // path between the two files' places under dist/, which differs from the sources'
            const placed = (file, root) => path.join(DIST, root.out, path.relative(root.dir, file));
            const rel = path.relative(path.dirname(placed(args.importer, from)), placed(target, to)).split(path.sep).join('/');
            return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
          });
        },
      },
    ],
  };
}

/**
 * What must stay external besides `external`, judging by one build's inputs: packages whose
 * code depends on its location, bundled files whose externals would resolve differently from
 * dist/ (a nested node_modules), and everything the externals depend on.
 */
async function moreExternals(esbuild, metafile, external, scanCache) {
  const bundled = new Map(); // package dir -> { name, files }
  for (const input of Object.keys(metafile.inputs)) {
    const file = path.resolve(ROOT, input);
    const owner = owningPackage(file);
    if (!owner) continue;
    const entry = bundled.get(owner.dir) ?? { name: owner.name, files: [] };
    entry.files.push(file);
    bundled.set(owner.dir, entry);
  }
  const add = new Set();
  for (const [, { name, files }] of bundled) {
    for (const file of files) {
      if (await usesItsLocation(esbuild, file, scanCache)) {
        add.add(name);
        break;
      }
    }
  }
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const file = path.resolve(ROOT, input);
    const owner = owningPackage(file);
    if (!owner) continue;
    for (const imp of imports) {
      if (!imp.external || imp.path.startsWith('node:') || imp.path.startsWith('.')) continue;
      const name = packageNameOf(imp.path);
      const fromFile = packageDirFrom(name, path.dirname(file));
      if (fromFile && fromFile !== path.join(NODE_MODULES, name)) add.add(owner.name);
    }
  }
  // What the externals load at run time from node_modules must not be bundled as well (it
  // would exist twice): bundle the externals themselves, on the side, to see their imports.
  const used = new Set(add);
  for (const { imports } of Object.values(metafile.inputs)) {
    for (const imp of imports) {
      if (!imp.external || imp.path.startsWith('.') || imp.path.startsWith('<') || isBuiltin(imp.path)) continue;
      // optional packages that are not installed (required inside try/catch) load nothing
      if (packageDirFrom(packageNameOf(imp.path), ROOT)) used.add(imp.path);
    }
  }
  for (const name of await loadedByExternals(esbuild, [...used])) add.add(name);
  return [...add].filter((name) => !external.includes(name) && !external.some((pattern) => pattern.endsWith('/*') && name.startsWith(pattern.slice(0, -1))));
}

/** The packages that these (external) imports load, themselves included, following their code. */
async function loadedByExternals(esbuild, specifiers) {
  if (!specifiers.length) return [];
  const names = new Set();
  const result = await esbuild
    .build({
      stdin: { contents: specifiers.map((s) => `import ${JSON.stringify(s)};`).join('\n'), resolveDir: ROOT, loader: 'js' },
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      outdir: path.join(ROOT, '.externals-scan'),
      loader: { '.node': 'empty', '.wasm': 'empty', '.data': 'empty' },
      logLevel: 'silent',
      absWorkingDir: ROOT,
    })
    .catch(() => undefined);
  if (!result) {
    // could not follow them: take every dependency they declare instead
    for (const specifier of specifiers) {
      const dir = packageDirFrom(packageNameOf(specifier), ROOT);
      if (!dir) continue;
      for (const dep of dependencyClosure(dir)) {
        const owner = owningPackage(path.join(dep, 'package.json'));
        if (owner) names.add(owner.name);
      }
    }
    return [...names];
  }
  for (const input of Object.keys(result.metafile.inputs)) {
    const owner = owningPackage(path.resolve(ROOT, input));
    if (owner) names.add(owner.name);
  }
  return [...names];
}

function compile({ quiet }) {
  if (clientNeedsGenerate()) {
    if (!quiet) console.log('build: generating the Prisma client (prisma/schema.prisma changed)');
    const gen = spawnSync(process.execPath, [path.join(ROOT, 'scripts/generate.mjs')], { stdio: 'inherit', cwd: ROOT });
    if (gen.status !== 0) throw new Error('prisma generate failed');
  }
  return sourcesNeedBuild();
}

async function bundle({ quiet }) {
  const esbuild = loadEsbuild();
  const started = Date.now();
  const files = sourceSignatures();
  const key = buildKey();
  const entryPoints = Object.keys(files).map(entryOf);
  // start from the last build's externals when the installed packages are the same
  const previous = readJson(BUILD_MANIFEST);
  let external = previous?.key && JSON.parse(previous.key).dependencies === JSON.parse(key).dependencies && previous.external
    ? previous.external
    : [...ALWAYS_EXTERNAL];
  const staging = `${DIST}.build-${process.pid}`;
  let result;
  const scanCache = readJson(SCAN_CACHE) ?? {};
  for (let round = 0; ; round += 1) {
    if (round === 10) throw new Error('the external packages did not settle');
    result = await esbuild.build({ ...bundleOptions(entryPoints, external, staging), write: false });
    if (result.errors.length) throw new Error(result.errors.map((e) => e.text).join('\n'));
    const more = await moreExternals(esbuild, result.metafile, external, scanCache);
    if (!more.length) break;
    external = [...external, ...more].sort();
  }
  writeFileSync(SCAN_CACHE, JSON.stringify(scanCache));
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const out of result.outputFiles) {
      mkdirSync(path.dirname(out.path), { recursive: true });
      writeFileSync(out.path, out.contents);
    }
    // A server started from the previous build may still import a chunk lazily: keep the
    // previous chunks (content-hashed names) for a day.
    const oldVendor = path.join(DIST, VENDOR);
    if (existsSync(oldVendor)) {
      for (const name of readdirSync(oldVendor)) {
        const target = path.join(staging, VENDOR, name);
        const source = path.join(oldVendor, name);
        if (!existsSync(target) && Date.now() - (mtime(source) ?? 0) < 86_400_000) cpSync(source, target, { preserveTimestamps: true });
      }
    }
    writeFileSync(path.join(staging, '.build.json'), JSON.stringify({ key, files, external }));
    const old = `${DIST}.old-${process.pid}`;
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(staging, DIST);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (!quiet) {
    const chunks = result.outputFiles.filter((f) => f.path.includes(`${path.sep}${VENDOR}${path.sep}`)).length;
    console.log(`build: compiled ${entryPoints.length} files to dist/ (third-party code in ${chunks} chunks) in ${Date.now() - started} ms`);
  }
}

/** tsc -p tsconfig.build.json --noEmit, through the locally installed TypeScript. */
function typeCheck() {
  let tsc;
  try {
    tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin/tsc');
  } catch {
    throw new Error('TypeScript is not installed: run `npm install` (with dev dependencies) first.');
  }
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

const BUILD_LOCK = path.join(NODE_MODULES, '.cache/chat-backend/build.lock');

/**
 * One build at a time per checkout (instances started together on stale sources all call the
 * build): the others wait, then find nothing left to do. A lock older than 5 minutes is a
 * killed build's and is taken over.
 */
async function withBuildLock(fn) {
  mkdirSync(path.dirname(BUILD_LOCK), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (Date.now() - (mtime(BUILD_LOCK) ?? Date.now()) > 5 * 60_000) {
      rmSync(BUILD_LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another build holds ${BUILD_LOCK}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await fn();
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

export async function build({ check = false, template = true, sources = true, quiet = false } = {}) {
  if (check) typeCheck();
  await withBuildLock(async () => {
    if (sources && compile({ quiet })) await bundle({ quiet });
    if (template) await ensureTemplate({ quiet });
  });
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
