// `npm start`: install if needed, build, run every service in one process (standalone mode).
import { ensureInstalled } from './ensure-installed.mjs';

ensureInstalled();
const { build } = await import('./build.mjs');
await build();
process.env.TRELLIS_MODE ??= 'standalone';
await import('../apps/standalone/dist/main.js');
