// Regenerates the protobuf-es code of proto/ (libs/proto) and of the kit's test service, after
// writing out the .proto files that proto/ imports from npm packages (VENDORED), and the deployment
// files of deploy/ made from typed code (DEPLOY_GENERATORS).
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { file_buf_validate_validate } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { protoSource } from './proto-source.mjs';

export const TEMPLATES = [
  { template: 'buf.gen.yaml', out: 'libs/proto/src/gen' },
  { template: 'libs/platform/test/buf.gen.yaml', out: 'libs/platform/test/gen' },
];

/** TypeScript generators of deploy/: each writes its files, or with `--check` exits 1 naming the stale ones. */
export const DEPLOY_GENERATORS = ['tools/deploy/kubernetes/generate.ts', 'tools/deploy/grafana/generate.ts'];

/** Where buf finds the imported .proto files that npm packages ship only as generated code. */
export const VENDOR_ROOT = 'libs/proto/vendor';

/**
 * buf/validate/validate.proto (protovalidate's rules) comes from the descriptor embedded in
 * @bufbuild/protovalidate, the package that enforces it, so the two never disagree; buf's schema
 * registry, where buf would fetch it from, is out of reach offline.
 */
export const VENDORED = [{ descriptor: file_buf_validate_validate, from: '@bufbuild/protovalidate' }];

/** The vendored files as `{ path, text }`, path relative to the repository root. */
export function vendoredFiles() {
  return VENDORED.map(({ descriptor, from }) => {
    const { version } = JSON.parse(readFileSync(join('node_modules', from, 'package.json'), 'utf8'));
    const header = [`Written by tools/generate.mjs from the descriptor in ${from} ${version}; do not edit.`, 'The schema and its rules are Buf Technologies\' (Apache-2.0); comments are not in a descriptor.'];
    return { path: join(VENDOR_ROOT, descriptor.proto.name), text: protoSource(descriptor, header) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  rmSync(VENDOR_ROOT, { recursive: true, force: true });
  for (const { path, text } of vendoredFiles()) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  for (const { template, out } of TEMPLATES) {
    rmSync(out, { recursive: true, force: true });
    execSync(`npx buf generate --template ${template}`, { stdio: 'inherit' });
  }
  for (const generator of DEPLOY_GENERATORS) execSync(`node tools/bench/run.cjs ${generator}`, { stdio: 'inherit' });
}
