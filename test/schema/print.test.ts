// schema.graphql is printed from the code, never edited by hand: it must match.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SCHEMA_FILE, printedSchema } from '../../src/schema/print.js';

it('the committed schema.graphql is what the code prints', () => {
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  expect(committed, 'schema.graphql is out of date with the code: run `npm run schema:print` and commit the result').toBe(
    printedSchema(),
  );
});
