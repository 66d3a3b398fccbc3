// Compiles media/src/ghash.wat into media/src/ghashWasm.ts (the bytes, base64), which is committed
// so that neither the node nor an install needs a WebAssembly toolchain. `npm run wasm` after an
// edit of the .wat; test/media/ghashWasm.test.ts checks that the committed module is current.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createWabt from 'wabt';

const MEDIA_SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'media', 'src');
export const WAT_FILE = path.join(MEDIA_SRC, 'ghash.wat');
export const MODULE_FILE = path.join(MEDIA_SRC, 'ghashWasm.ts');

/** The TypeScript module that ghash.wat compiles to, as text. */
export async function renderGhashModule() {
  const wabt = await createWabt();
  const parsed = wabt.parseWat('ghash.wat', readFileSync(WAT_FILE, 'utf8'));
  try {
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    const base64 = Buffer.from(buffer).toString('base64');
    return [
      '// Generated from ghash.wat by `npm run wasm` (scripts/wasm.mjs): do not edit.',
      `export const GHASH_WASM = Buffer.from('${base64}', 'base64');`,
      '',
    ].join('\n');
  } finally {
    parsed.destroy();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(MODULE_FILE, await renderGhashModule());
  console.log(`wrote ${path.relative(process.cwd(), MODULE_FILE)}`);
}
