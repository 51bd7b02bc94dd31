import { startStandaloneProcess, type StandaloneProcess } from '@trellis/testing';
import { runUserFlow } from './user-flow';

/**
 * Issue 18's end-to-end suite against standalone: `npm start`'s script, tools/start.mjs (every
 * service and the gateway in one process, on SQLite), started as its own process with its own data
 * directory and ports, and a user's whole path through its gateway. The script builds dist/ first
 * unless `npm test` built it already (TRELLIS_PREBUILT=1), which it passes on.
 */
describe('a user flow through the gateway, every service in one process', () => {
  let platform: StandaloneProcess;

  beforeAll(async () => {
    platform = await startStandaloneProcess();
  }, 240_000);

  afterAll(async () => {
    await platform?.close();
  }, 60_000);

  it('takes a dataset to a trained, registered, served and monitored model', async () => {
    await runUserFlow(platform, 'standalone');
  }, 180_000);
});
