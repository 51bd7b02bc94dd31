// The CLI's tests: the built `trellis` command (apps/cli/bin, after npm run build) run as a process
// against one standalone platform every spec file shares (started once in global setup); each
// spec seeds a project of its own.
module.exports = {
  displayName: 'app-cli',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
  globalSetup: '<rootDir>/../../libs/testing/src/jest/standalone-global-setup.ts',
  globalTeardown: '<rootDir>/../../libs/testing/src/jest/standalone-global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 120_000,
};
