module.exports = {
  displayName: 'plugin-compute-kubernetes',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
