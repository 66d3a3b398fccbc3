// A pre-migrated embedded database, made once by the build (scripts/build.mjs: `npm install`,
// `npm run build`, and `npm start` when it is about to open a fresh database with an outdated
// template) and cached under node_modules/.cache. A fresh PGLITE_DATA_DIR starts as a copy of
// it (an in-memory one loads its tarball) instead of running PGlite's initdb (a second
// WebAssembly PostgreSQL instance) and then every migration through Prisma's schema engine:
// 1,100 files to copy instead of 2-3 s of CPU. The copy is the same database the normal
// path makes, `_prisma_migrations` included, so `prisma migrate deploy` and later migrations
// see nothing unusual. A template whose PGlite version or migrations differ from the
// installed ones is ignored (the normal path runs) until the build refreshes it.
import { createRequire } from 'node:module';
import { constants, copyFile, mkdir, open, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type LocalMigration, PROJECT_ROOT, localMigrations } from './migrations.js';

export const TEMPLATE_DIR = path.join(PROJECT_ROOT, 'node_modules/.cache/chat-backend/pglite-template');
/** a cleanly shut down data directory, copied into fresh data directories */
const DATA_DIR = 'pgdata';
/** the same database as PGlite's dumpDataDir() tarball, for in-memory databases (loadDataDir) */
const TARBALL = 'pgdata.tar';
const MANIFEST = 'manifest.json';
/** files of DATA_DIR that end in a long run of zeros (the preallocated WAL segment), see copyTree */
const LAYOUT = 'layout.json';
const SPARSE_MIN_BYTES = 64 * 1024;
/** files copied at once when restoring (libuv has 4 threads; the module loader needs some) */
const COPY_CONCURRENCY = 2;

interface Layout {
  /** path inside DATA_DIR → length of the file without its trailing zeros */
  zeroTails: Record<string, number>;
}

interface Manifest {
  pglite: string;
  migrations: LocalMigration[];
}

let pgliteVersion: Promise<string> | undefined;
function installedPgliteVersion(): Promise<string> {
  pgliteVersion ??= (async () => {
    // the package's exports do not include package.json: find it next to the resolved entry
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const pkg = JSON.parse(await readFile(path.join(path.dirname(entry), '../package.json'), 'utf8')) as { version: string };
    return pkg.version;
  })();
  return pgliteVersion;
}

async function expectedManifest(migrations?: LocalMigration[]): Promise<Manifest> {
  return { pglite: await installedPgliteVersion(), migrations: migrations ?? (await localMigrations()) };
}

/** Whether the cached template matches the installed PGlite and the committed migrations. */
export async function templateMatches(migrations?: LocalMigration[]): Promise<boolean> {
  const found = await readFile(path.join(TEMPLATE_DIR, MANIFEST), 'utf8').catch(() => null);
  return found !== null && found === JSON.stringify(await expectedManifest(migrations));
}

/** Whether a data directory holds nothing yet (missing or empty). */
export async function isFreshDataDir(dataDir: string): Promise<boolean> {
  const entries = await readdir(dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return entries.length === 0;
}

/**
 * Makes a fresh (missing or empty) data directory a copy of the template. Returns false, and
 * leaves the directory as it was, when the template is missing or out of date. The copy is
 * made beside the directory and renamed into place, so an interrupted copy never leaves a
 * half-made database behind.
 */
export async function restoreTemplate(dataDir: string, migrations?: LocalMigration[]): Promise<boolean> {
  if (!(await templateMatches(migrations))) return false;
  const target = path.resolve(dataDir);
  const staging = `${target}.template-${process.pid}`;
  await mkdir(path.dirname(target), { recursive: true });
  try {
    await rm(staging, { recursive: true, force: true });
    const layout = await readFile(path.join(TEMPLATE_DIR, LAYOUT), 'utf8').then(
      (text) => JSON.parse(text) as Layout,
      () => ({ zeroTails: {} }),
    );
    await copyTree(path.join(TEMPLATE_DIR, DATA_DIR), staging, layout.zeroTails);
    await rmdir(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(staging, target);
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    // a directory that is not empty any more is someone else's: do not touch it
    if (!(await isFreshDataDir(target).catch(() => false))) throw err;
    return false;
  }
}

/** Runs at most `limit` of the tasks given to it at once. */
function limiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/**
 * A recursive copy, COPY_CONCURRENCY files at a time; copy-on-write clones where the
 * filesystem has them (btrfs, xfs). Creating the 1,100 files is most of the cost (kernel time);
 * the limit leaves libuv's other threads to the module loader, which reads the app's files
 * meanwhile (see preopenDatabase). A file listed in zeroTails gets only its data written and
 * is then extended to its full length: the extension reads back as zeros, so the copy is byte
 * for byte the template, without writing the 16 MiB of a mostly empty WAL segment.
 */
async function copyTree(from: string, to: string, zeroTails: Record<string, number>): Promise<void> {
  const run = limiter(COPY_CONCURRENCY);
  const copyDir = async (source: string, target: string, rel: string): Promise<void> => {
    await mkdir(target, { mode: 0o700 });
    const entries = await readdir(source, { withFileTypes: true });
    await Promise.all(
      entries.map((entry) => {
        const relPath = rel ? `${rel}/${entry.name}` : entry.name;
        const from = path.join(source, entry.name);
        const to = path.join(target, entry.name);
        if (entry.isDirectory()) return copyDir(from, to, relPath);
        const dataLength = zeroTails[relPath];
        return run(() =>
          dataLength === undefined ? copyFile(from, to, constants.COPYFILE_FICLONE) : copyDataThenHole(from, to, dataLength),
        );
      }),
    );
  };
  await copyDir(from, to, '');
}

async function copyDataThenHole(from: string, to: string, dataLength: number): Promise<void> {
  const input = await open(from, 'r');
  try {
    const { size } = await input.stat();
    const data = Buffer.alloc(dataLength);
    await input.read(data, 0, dataLength, 0);
    const output = await open(to, 'w', 0o600);
    try {
      await output.write(data);
      await output.truncate(size);
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Files that end in at least SPARSE_MIN_BYTES of zeros, with the length of what precedes them. */
async function zeroTailsOf(dir: string, rel = '', found: Record<string, number> = {}): Promise<Record<string, number>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      await zeroTailsOf(path.join(dir, entry.name), relPath, found);
      continue;
    }
    const bytes = await readFile(path.join(dir, entry.name));
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end -= 1;
    if (bytes.length - end >= SPARSE_MIN_BYTES) found[relPath] = end;
  }
  return found;
}

/** The template as a tarball for `new PGlite({ loadDataDir })` (in-memory databases). */
export async function templateTarball(migrations?: LocalMigration[]): Promise<Blob | undefined> {
  if (!(await templateMatches(migrations))) return undefined;
  const bytes = await readFile(path.join(TEMPLATE_DIR, TARBALL)).catch(() => null);
  return bytes ? new Blob([bytes]) : undefined;
}

/**
 * Makes (or remakes) the template when it is missing or does not match the installed PGlite
 * and the committed migrations. Returns false when it was already up to date.
 */
export async function buildTemplate(): Promise<boolean> {
  const migrations = await localMigrations();
  if (await templateMatches(migrations)) return false;
  const [{ PGlite }, { PrismaPGlite }, { applyMigrations }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('pglite-prisma-adapter'),
    import('./schemaEngine.js'),
  ]);
  const staging = `${TEMPLATE_DIR}.build-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    // initdb and migrate in memory, exactly as a first start would on an empty directory
    const scratch = new PGlite();
    await scratch.waitReady;
    await applyMigrations(new PrismaPGlite(scratch));
    await scratch.exec('CHECKPOINT');
    const tarball = await scratch.dumpDataDir('none');
    await scratch.close();
    await writeFile(path.join(staging, TARBALL), new Uint8Array(await tarball.arrayBuffer()));
    // the on-disk copy: loaded from that tarball, then shut down cleanly (no recovery on open)
    const onDisk = new PGlite(path.join(staging, DATA_DIR), { loadDataDir: tarball });
    await onDisk.waitReady;
    await onDisk.close();
    const layout: Layout = { zeroTails: await zeroTailsOf(path.join(staging, DATA_DIR)) };
    await writeFile(path.join(staging, LAYOUT), JSON.stringify(layout));
    await writeFile(path.join(staging, MANIFEST), JSON.stringify(await expectedManifest(migrations)));
    await rm(TEMPLATE_DIR, { recursive: true, force: true });
    await rename(staging, TEMPLATE_DIR);
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}
