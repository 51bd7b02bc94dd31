// Fails when committed generated code (libs/proto, the kit's test service) or a vendored .proto
// differs from what tools/generate.mjs makes now, or when buf does not compile a vendored .proto
// back to the descriptor it was written from. Fix: run `node tools/generate.mjs` and commit the result.
// Also fails when the settings in docs/configuration.md differ from the config schemas
// (fix: `node tools/config-docs.mjs`), and when deploy/kubernetes or deploy/grafana is stale.
import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry, equals, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { CONFIGURATION_DOC, configurationDoc } from './config-docs.mjs';
import { DEPLOY_GENERATORS, TEMPLATES, VENDORED, vendoredFiles } from './generate.mjs';

let stale = false;
if (readFileSync(CONFIGURATION_DOC, 'utf8') !== configurationDoc()) {
  console.error('docs/configuration.md is stale: run `node tools/config-docs.mjs` and commit the result');
  stale = true;
}
for (const { path, text } of vendoredFiles()) {
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
    console.error(`${path} is stale: run \`node tools/generate.mjs\` and commit the result`);
    stale = true;
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'trellis-gen-'));
execSync(`npx buf build --exclude-source-info -o ${join(scratch, 'image.binpb')}`, { stdio: 'inherit' });
const built = fromBinary(FileDescriptorSetSchema, readFileSync(join(scratch, 'image.binpb'))).file;
for (const { descriptor } of VENDORED) {
  const compiled = built.find((file) => file.name === descriptor.proto.name);
  // buf marks files of its image with an extension of its own; the descriptor proper is what must match.
  if (compiled) compiled.$unknown = undefined;
  if (!compiled || !equals(FileDescriptorProtoSchema, compiled, descriptor.proto, { registry: createRegistry(descriptor), unknown: true, extensions: true })) {
    console.error(`buf does not compile ${descriptor.proto.name} back to the descriptor it was written from: tools/proto-source.mjs misses something it holds`);
    stale = true;
  }
}

for (const { template, out } of TEMPLATES) {
  const dir = join(scratch, out.replace(/\//g, '_'));
  const config = readFileSync(template, 'utf8').replace(`out: ${out}`, `out: ${join(dir, 'out')}`);
  writeFileSync(join(scratch, 'buf.gen.yaml'), config);
  execSync(`npx buf generate --template ${join(scratch, 'buf.gen.yaml')}`, { stdio: 'inherit' });
  try {
    execSync(`diff -r ${join(dir, 'out')} ${out}`, { stdio: 'inherit' });
  } catch {
    console.error(`\n${out} is stale: run \`node tools/generate.mjs\` and commit the result`);
    stale = true;
  }
}
rmSync(scratch, { recursive: true, force: true });
for (const generator of DEPLOY_GENERATORS) {
  try {
    execSync(`node tools/bench/run.cjs ${generator} --check`, { stdio: 'inherit' });
  } catch {
    stale = true;
  }
}
process.exit(stale ? 1 : 0);
