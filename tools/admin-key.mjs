// `npm run admin-key`: issues a new API key to the admin user, straight in governance's database,
// for whoever holds it and lost the key (or never saw it). It reads the same configuration as
// Trellis: standalone's data directory (TRELLIS_DATA_DIR, default ./.trellis), or, with
// TRELLIS_MODE=distributed, PostgreSQL (TRELLIS_DATABASE_URL or TRELLIS_GOVERNANCE_DATABASE_URL).
// The key is printed once; the issue is audited. Governance may be running meanwhile.
import { createRequire } from 'node:module';
import { ensureInstalled } from './ensure-installed.mjs';

ensureInstalled();
const { build } = await import('./build.mjs');
await build();
// The build is CommonJS, whose named exports an ES module cannot always import.
const require = createRequire(import.meta.url);
require('reflect-metadata');
require('@trellis/governance').runAdminKeyCommand();
