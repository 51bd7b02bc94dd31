module.exports = {
  displayName: 'tools',
  preset: '../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
  // The end-to-end, version-skew, rollout and chaos suites spend most of their time waiting (for
  // processes to start, an outage to last): two spec files run at once.
  maxWorkers: 2,
};
