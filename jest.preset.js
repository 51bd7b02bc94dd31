// One jest setup for every project: @swc/jest (type-checking is `tsc --noEmit`, run separately),
// and ESM-only dependencies (jose) compiled to CommonJS because jest on Node 20 cannot require() ESM.
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

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  moduleNameMapper,
  transform: { '^.+\\.(ts|js|mjs)$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
};
