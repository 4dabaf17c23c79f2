import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'es2022',
  dts: true,
  clean: true,
  // The provider and the hook use context and effects: in a React Server Components app
  // (Next.js App Router) they belong on the client side.
  banner: { js: "'use client';" },
});
