// Fails when committed generated code (libs/proto, the kit's test service) differs from what
// `buf generate` makes of proto/ now. Fix: run `node tools/generate.mjs` and commit the result.
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPLATES } from './generate.mjs';

let stale = false;
for (const { template, out } of TEMPLATES) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-gen-'));
  const config = readFileSync(template, 'utf8').replace(`out: ${out}`, `out: ${join(dir, 'out')}`);
  writeFileSync(join(dir, 'buf.gen.yaml'), config);
  execSync(`npx buf generate --template ${join(dir, 'buf.gen.yaml')}`, { stdio: 'inherit' });
  try {
    execSync(`diff -r ${join(dir, 'out')} ${out}`, { stdio: 'inherit' });
  } catch {
    console.error(`\n${out} is stale: run \`node tools/generate.mjs\` and commit the result`);
    stale = true;
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(stale ? 1 : 0);
