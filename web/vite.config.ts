// Vite for the web client. `node scripts/build-web.mjs` builds web/dist (served by the API at
// /); `npx vite web` is a dev server with hot reload that proxies the API on :4000.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// (typed here so that this file needs no Node types in web/tsconfig.json)
declare const process: { env: Record<string, string | undefined> };
const api = process.env.CHAT_API ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Hashed file names under /assets/: the server caches them for a year.
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '/uploads': api,
      '/static': api,
    },
  },
});
