// For the crash specs: opens storage-fs on the root in argv[2], starts a put whose body stalls after
// 4 MiB, prints "writing" once those bytes are in the staging area, and stays until it is killed.
// Runs the TypeScript sources through @swc/core, as jest does.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { Readable } = require('node:stream');
const { transformSync } = require('@swc/core');

const sdk = path.resolve(__dirname, '../../../libs/plugin-sdk/src/index.ts');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === '@trellis/plugin-sdk' ? sdk : request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  module._compile(code, filename);
};

const root = process.argv[2];
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const size = 4 * 1024 * 1024;

(async () => {
  const store = await require('../src/index.ts').default.create(
    { instanceName: 'crash', logger: silent, dataDir: root, signal: new AbortController().signal },
    { root },
  );
  const body = new Readable({ read() {} });
  body.push(Buffer.alloc(size, 7));
  store.put('crashed/object', body).catch(() => undefined);
  const tmp = path.join(root, 'staging', 'tmp');
  const poll = setInterval(() => {
    const staged = fs.readdirSync(tmp).map((name) => fs.statSync(path.join(tmp, name)).size);
    if (staged.some((bytes) => bytes >= size)) {
      clearInterval(poll);
      process.stdout.write('writing\n');
      setInterval(() => undefined, 60_000); // a stalled stream alone would let the process exit
    }
  }, 10);
})();
