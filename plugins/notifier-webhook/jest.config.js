module.exports = {
  displayName: 'plugin-notifier-webhook',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
