// The media node as its own process: `node --import tsx media/src/main.ts` (or dist/media/main.js).
import { MediaConfigError, loadMediaConfig } from './config.js';
import { startMediaNode } from './start.js';

let config;
try {
  config = loadMediaConfig();
} catch (err) {
  if (err instanceof MediaConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
const running = await startMediaNode(config);
// the benchmark and process managers read this line to find the control URL
console.log(JSON.stringify({ mediaNode: running.id, controlUrl: running.controlUrl }));
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    void running.stop().then(() => process.exit(0));
  });
