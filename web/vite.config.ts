import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The portal is built into web/dist, which the server serves at `/` (src/api/portal.ts). The web
// code imports the shared zod schemas, the typed client and the parameter validation from ../src
// (browser-safe modules only); Vite resolves their `.js` specifiers to the `.ts` files.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    // The first page's budget is checked by scripts/web-size.mjs (500 KB gzipped).
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8470' } },
});
