// media/src/ghashWasm.ts is compiled from media/src/ghash.wat and committed: it must match.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
// @ts-expect-error a plain ESM script without types
import { MODULE_FILE, renderGhashModule } from '../../scripts/wasm.mjs';

it('the committed GHASH module is what ghash.wat compiles to', async () => {
  expect(readFileSync(MODULE_FILE as string, 'utf8'), 'ghashWasm.ts is out of date with ghash.wat: run `npm run wasm` and commit the result').toBe(
    await (renderGhashModule as () => Promise<string>)(),
  );
});
