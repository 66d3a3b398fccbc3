// npm start: read the configuration, build the app, serve until SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.js';
import { preopenDatabase } from './db/client.js';
import { createLogger } from './logger.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}

// The embedded database opens (WebAssembly compiling, files loading) while the rest of the
// app's modules load: server.js is imported only after this has started.
preopenDatabase({ databaseUrl: config.DATABASE_URL, pgliteDataDir: config.PGLITE_DATA_DIR });
const { buildApp } = await import('./server.js');

const log = createLogger(config.LOG_LEVEL);
const app = await buildApp({ config, log });
const port = await app.start();
log.info(
  { port, database: app.db.kind, graphiql: config.GRAPHIQL },
  `Chat API ready at http://localhost:${port}/graphql`,
);

let stopping = false;
// A rejection nobody handled is a bug: logged, and the process ends as Node's default would.
// While stopping, commands still in flight on connections being closed reject ("Connection is
// closed") by the dozen; that is the shutdown working, not a failure of it.
process.on('unhandledRejection', (err) => {
  if (stopping) {
    log.warn({ err }, 'a promise rejected while shutting down');
    return;
  }
  log.fatal({ err }, 'unhandled promise rejection');
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
