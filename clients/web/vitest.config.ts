import { defineConfig } from 'vitest/config';

// Unit tests of the packages and the dashboard. `@signalstream/*` resolve to the built packages
// (npm run build:packages), as they do for any user.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'dashboard/src/**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    restoreMocks: true,
  },
});
