// One jest setup for every project: @swc/jest (type-checking is `tsc --noEmit`, run separately),
// and ESM-only dependencies (jose, @kubernetes/client-node and what it imports, kubernetes-models) compiled to CommonJS because jest on Node 20 cannot require() ESM.
const fs = require('node:fs');
const path = require('node:path');
const nxPreset = require('@nx/jest/preset').default;

// @trellis/* resolve to their sources in tests, never to a stale dist/ build.
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(__dirname, 'tsconfig.base.json'), 'utf8'));
const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/*', '/(.*)')}$`,
    path.join(__dirname, target.replace('*', '$1')),
  ]),
);

// kubernetes-models (the fake Kubernetes API server's validators) imports its sibling packages, which
// export only `import` entries beside `types`, and jest's require() would take the types: map them to .js.
const modules = path.join(__dirname, 'node_modules');
const kubernetesModels = {
  '^@kubernetes-models/apimachinery/(?!package\\.json$)(.*)$': path.join(modules, '@kubernetes-models/apimachinery/$1.js'),
  '^@kubernetes-models/(base|validate)$': path.join(modules, '@kubernetes-models/$1/dist/index.js'),
};

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  moduleNameMapper: { ...moduleNameMapper, ...kubernetesModels },
  transform: { '^.+\\.(ts|js|mjs)$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  transformIgnorePatterns: ['/node_modules/(?!(jose|@kubernetes/client-node|openid-client|oauth4webapi|kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
};
