// Writes deploy/grafana/*.json from the typed dashboards (dashboards.ts). Run through
// tools/generate.mjs; `--check` (tools/check-generated.mjs) fails when a file is stale.
import { join } from 'node:path';
import { runGenerator, writeGenerated } from '../kubernetes/generated-files';
import { ROOT } from '../kubernetes/values';
import { DASHBOARDS } from './dashboards';

export const DASHBOARDS_DIR = join(ROOT, 'deploy/grafana');

/** The text of every dashboard file, by name. */
export function renderDashboards(): Map<string, string> {
  return new Map([...DASHBOARDS].map(([name, json]) => [name, `${JSON.stringify(json, null, 2)}\n`]));
}

if (process.argv[1] === __filename) runGenerator('Grafana dashboards', (check) => writeGenerated(DASHBOARDS_DIR, '.json', renderDashboards(), [], check));
