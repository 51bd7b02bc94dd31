module.exports = {
  displayName: 'plugin-kms-local',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
