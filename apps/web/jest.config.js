// The web UI's tests: headless Chromium (Debian's, driven by playwright-core) against one
// standalone platform that every spec file shares (started once in global setup); each spec
// seeds a project of its own, so specs never see each other's data.
module.exports = {
  displayName: 'app-web',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/e2e/**/*.spec.ts'],
  globalSetup: '<rootDir>/../../libs/testing/src/jest/standalone-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest/standalone-global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 120_000,
};
