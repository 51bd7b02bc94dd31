// `node tools/api/record-release-baselines.mjs <version>`: records, at a release, what the next
// release must keep for one service to be upgraded at a time, and which commit the release is:
// tools/api/events-baseline.json (each event subject and its message type),
// tools/api/migrations-baseline.json (each migration and a hash of its file),
// tools/api/v1-baseline.binpb (the contracts, for `buf breaking`) and tools/api/release.json (the
// version and this commit, which the version-skew suite builds as "the previous release").
// Run it on the release's commit with `npm test` green and commit the four files
// (docs/operations.md, "Releases"). It refuses, writing nothing, when the tree breaks what the last
// release recorded.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { typeScriptRequire } from '../config-docs.mjs';

const RELEASE = 'tools/api/release.json';
const version = process.argv[2];
if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
  console.error('usage: node tools/api/record-release-baselines.mjs <version, e.g. 0.18.0>');
  process.exit(2);
}
if (execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim()) {
  console.error('the working tree has changes: record a release on a committed tree, so its commit is what was tested');
  process.exit(1);
}

const { EVENTS_BASELINE, MIGRATIONS_BASELINE, recordReleaseBaselines } = typeScriptRequire()('./tools/api/release-baselines.ts');
const breaks = await recordReleaseBaselines();
for (const line of breaks) console.error(line);
if (breaks.length > 0) process.exit(1);

execFileSync('npx', ['buf', 'build', 'proto', '--exclude-source-info', '-o', 'tools/api/v1-baseline.binpb'], { stdio: 'inherit' });
const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const notes = 'The previous release: what the version-skew suite builds and runs beside this checkout. Recorded with the release baselines beside it (docs/operations.md, Releases).';
writeFileSync(RELEASE, `${JSON.stringify({ version, commit, notes }, null, 2)}\n`);
console.log(`recorded ${version} (${commit}): ${EVENTS_BASELINE}, ${MIGRATIONS_BASELINE}, tools/api/v1-baseline.binpb, ${RELEASE}`);
