#!/usr/bin/env node
// The `trellis` command: apps/cli's build (npm run build) of src/main.ts.
try {
  require('../dist/main.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/main.js')) {
    console.error('trellis: the CLI is not built yet: run `npm run build` in the Trellis checkout');
    process.exit(1);
  }
  throw error;
}
