import { defineConfig } from 'prisma/config';

// The CLI reads this for `prisma generate`. Migrations do not go through the CLI's
// native engine (unavailable offline); see scripts/db.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
