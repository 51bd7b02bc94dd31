// Runs a TypeScript file of this repository with plain node, the way jest sees it: .ts compiled by
// @swc/core with the repository's .swcrc, @trellis/* resolved to sources through the paths of
// tsconfig.base.json. Usage: node tools/bench/run.cjs <file.ts> [args...]
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const repo = path.resolve(__dirname, '..', '..');
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(repo, 'tsconfig.base.json'), 'utf8'));
const aliases = Object.entries(compilerOptions.paths).map(([alias, [target]]) => ({
  prefix: alias.replace('*', ''),
  wildcard: alias.endsWith('*'),
  target: path.join(repo, target),
}));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const { prefix, wildcard, target } of aliases) {
    if (wildcard ? request.startsWith(prefix) : request === prefix) {
      return resolveFilename.call(this, wildcard ? target.replace('*', request.slice(prefix.length)) : target, ...rest);
    }
  }
  return resolveFilename.call(this, request, ...rest);
};

const swcrc = JSON.parse(fs.readFileSync(path.join(repo, '.swcrc'), 'utf8'));
delete swcrc.$schema;
process.setSourceMapsEnabled(true);
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...swcrc, filename, swcrc: false, sourceMaps: 'inline' });
  module._compile(code, filename);
};

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tools/bench/run.cjs <file.ts> [args...]');
  process.exit(2);
}
const entry = path.resolve(file);
process.argv = [process.argv[0], entry, ...args];
require(entry);
