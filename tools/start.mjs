// `npm start`: install if needed, build, run every service in one process (standalone mode).
import { ensureInstalled } from './ensure-installed.mjs';

ensureInstalled();
// `npm test` builds once before its specs (TRELLIS_PREBUILT=1), so a spec that starts this script
// never rebuilds dist/ under the processes of specs running beside it.
if (process.env.TRELLIS_PREBUILT !== '1') {
  const { build } = await import('./build.mjs');
  await build();
}
process.env.TRELLIS_MODE ??= 'standalone';
await import('../apps/standalone/dist/main.js');
