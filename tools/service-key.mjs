// `npm run service-key -- <service> [--write <file>]`: issues an API key to the service account of
// a platform service that runs work as itself (the registry), straight in governance's database,
// for an operator who runs that service in its own process and gives it the key as
// services.<service>.credential (TRELLIS_<SERVICE>_CREDENTIAL=env:NAME or file:/path). It reads
// the same configuration as Trellis (TRELLIS_MODE=distributed with TRELLIS_DATABASE_URL, or the
// standalone data directory, where no key is needed: governance writes one at start). The key is
// printed once, or written to <file> readable by its owner only; the issue is audited.
import { createRequire } from 'node:module';
import { ensureInstalled } from './ensure-installed.mjs';

ensureInstalled();
const { build } = await import('./build.mjs');
await build();
// The build is CommonJS, whose named exports an ES module cannot always import.
const require = createRequire(import.meta.url);
require('reflect-metadata');
require('@trellis/governance').runServiceKeyCommand(process.argv.slice(2));
