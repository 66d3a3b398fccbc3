import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql-js for everyone, the one Node loads in production. Left alone, Vite resolves
    // `graphql` in src/ to its ESM build (index.mjs) while graphql-yoga and graphql-armor, run
    // by Node, load the CommonJS build: two GraphQLError classes, so `instanceof GraphQLError`
    // fails in src/http/errors.ts and a syntax error came back as INTERNAL_SERVER_ERROR.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Several instances need servers they can share: only with real PostgreSQL and Redis.
    // A PostgreSQL outage needs a PostgreSQL server to cut off.
    // The media node's announcement (and the API reading it) needs a Redis server.
    exclude: [
      ...(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL ? [] : ['test/realtime/cluster.test.ts', 'test/realtime/voiceCluster.test.ts', 'test/db/postgresOutage.test.ts']),
      ...(process.env.TEST_REDIS_URL ? [] : ['test/media/registry.test.ts', 'test/voice/mediaRegistry.test.ts']),
    ],
    // Every test file boots its own server on its own database: files run in parallel.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
