// Records, at a release, what the next release must keep for one service to be upgraded at a time:
// tools/api/events-baseline.json (each event subject and its message type) and
// tools/api/migrations-baseline.json (each migration and a hash of its file). Run it on the
// release's commit with `npm test` green and commit both files (docs/operations.md, "Releases").
// It refuses, writing nothing, when the tree breaks what the last release recorded.
import { typeScriptRequire } from '../config-docs.mjs';

const { EVENTS_BASELINE, MIGRATIONS_BASELINE, recordReleaseBaselines } = typeScriptRequire()('./tools/api/release-baselines.ts');

const breaks = await recordReleaseBaselines();
for (const line of breaks) console.error(line);
if (breaks.length === 0) console.log(`recorded ${EVENTS_BASELINE} and ${MIGRATIONS_BASELINE}`);
process.exit(breaks.length === 0 ? 0 : 1);
