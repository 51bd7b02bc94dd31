// `npm test`: install if needed, start the test services, then run every check:
// generated code fresh, unit + integration tests, type-check, lint, buf lint and buf breaking.
// Every step runs; the summary lists each one and the exit code is non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ensureInstalled } from './ensure-installed.mjs';

ensureInstalled();

const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  // Per-run names for databases and JetStream streams, so runs never see each other's data.
  TRELLIS_TEST_RUN_ID: process.env.TRELLIS_TEST_RUN_ID ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
  TRELLIS_PREBUILT: '1',
};

const steps = [
  ['test services (PostgreSQL, NATS JetStream, protoc 3.5)', 'bash tools/services/ensure-services.sh'],
  ['generated code is up to date', 'node tools/check-generated.mjs'],
  // Specs that run the services as built (start:distributed, version skew, chaos) use this one build.
  ['build', 'node tools/build.mjs'],
  ['unit and integration tests', 'npx nx run-many -t test --parallel=2 --outputStyle=static'],
  ['type-check', 'npx tsc --noEmit -p tsconfig.json && npx tsc --noEmit -p apps/web/tsconfig.json'],
  ['lint (with module boundaries)', 'npx nx run-many -t lint --parallel=2 --outputStyle=static'],
  ['buf lint', 'npx buf lint'],
  // The v1 contracts as of their one announced break (docs/api-style.md): from then on v1 only grows.
  ['buf breaking against the v1 baseline', 'npx buf breaking proto --against tools/api/v1-baseline.binpb'],
];

const results = [];
for (const [name, command] of steps) {
  console.log(`\n[trellis] ${name}: ${command}`);
  const started = Date.now();
  const { status } = spawnSync(command, { shell: true, stdio: 'inherit', env });
  results.push({ name, ok: status === 0, seconds: ((Date.now() - started) / 1000).toFixed(1) });
  if (name.startsWith('test services') && status !== 0) break;
}

console.log('\n[trellis] summary');
for (const { name, ok, seconds } of results) console.log(`  ${ok ? 'pass' : 'FAIL'}  ${name} (${seconds} s)`);
const failed = results.filter((result) => !result.ok).length || (results.length < steps.length ? 1 : 0);
process.exit(failed ? 1 : 0);
