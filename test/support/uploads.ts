// A server with small upload limits and its own upload directory, removed afterwards.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestServer, startTestServer } from './app.js';

export const MAX_UPLOAD_BYTES = 65_536;
export const MAX_UPLOAD_FILES = 3;

export interface UploadServer {
  server: TestServer;
  dir: string;
  /** the names of the files in the upload directory, sorted */
  filesOnDisk(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startUploadServer(env: Record<string, string> = {}): Promise<UploadServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chat-uploads-'));
  const server = await startTestServer({
    env: { UPLOAD_DIR: dir, MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES), MAX_UPLOAD_FILES: String(MAX_UPLOAD_FILES), ...env },
  });
  return {
    server,
    dir,
    filesOnDisk: async () => (await readdir(dir)).sort(),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
