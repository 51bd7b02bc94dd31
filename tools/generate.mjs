// Regenerates the protobuf-es code of proto/ (libs/proto) and of the kit's test service.
import { execSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export const TEMPLATES = [
  { template: 'buf.gen.yaml', out: 'libs/proto/src/gen' },
  { template: 'libs/platform/test/buf.gen.yaml', out: 'libs/platform/test/gen' },
];

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { template, out } of TEMPLATES) {
    rmSync(out, { recursive: true, force: true });
    execSync(`npx buf generate --template ${template}`, { stdio: 'inherit' });
  }
}
