// npm run schema:print — writes schema.graphql at the repository root. Never edit that file
// by hand; test/schema/print.test.ts fails when it differs from the code.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { sortedSchema } from './index.js';

export const SCHEMA_FILE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../schema.graphql');
export const printedSchema = () => `${printSchema(sortedSchema())}\n`;

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  writeFileSync(SCHEMA_FILE, printedSchema());
  console.log(`Wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
}
