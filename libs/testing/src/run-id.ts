import { randomBytes } from 'node:crypto';

const fromEnv = process.env['TRELLIS_TEST_RUN_ID']?.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 32);
const runId = fromEnv || `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let counter = 0;

/**
 * The id of this test run: `TRELLIS_TEST_RUN_ID` (lowercased, reduced to `[a-z0-9_]`), or one
 * generated once per process. Every database, stream and subject a test creates is named from it,
 * so concurrent runs on shared servers never collide.
 */
export function testRunId(): string {
  return runId;
}

/**
 * A name unique within this run: `<prefix>_<run id>_<pid>_<n>`. The pid matters because one run
 * starts several jest processes (a project each, in parallel) that share the run id.
 */
export function uniqueTestName(prefix: string): string {
  counter += 1;
  return `${prefix}_${runId}_${process.pid}_${counter}`;
}
