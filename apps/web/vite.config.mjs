// Builds the web UI into dist/, which the gateway serves at / (tools/build.mjs runs this build).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    // tools/build.mjs writes over the old build: a page loaded before a rebuild still finds its hashed files.
    emptyOutDir: false,
    sourcemap: true,
    // The chart library is loaded only by pages with charts.
    chunkSizeWarningLimit: 600,
  },
  logLevel: 'warn',
});
