import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is served by the server (src/SignalStream.Server) from its wwwroot folder.
const outDir = fileURLToPath(new URL('../../../src/SignalStream.Server/wwwroot', import.meta.url));

// `npm run dev`: the page calls its own origin and Vite forwards the API and the stream to a
// running server (default http://localhost:9001), presenting the server's own origin on the
// WebSocket upgrade so the server's origin allow-list accepts it.
const target = process.env.SIGNALSTREAM_SERVER ?? 'http://localhost:9001';

export default defineConfig({
  base: '/',
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    rolldownOptions: {
      // @signalstream/react starts with 'use client' for React Server Components apps; a plain
      // single-page bundle has no server side, so the directive has nothing to mean here.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE' && log.message.includes('use client')) return;
        handler(level, log);
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target, changeOrigin: true },
      '/ws': {
        target,
        ws: true,
        changeOrigin: true,
        configure: (proxy) => {
          proxy.on('proxyReqWs', (req) => req.setHeader('origin', new URL(target).origin));
        },
      },
    },
  },
});
