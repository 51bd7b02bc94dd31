module.exports = {
  displayName: 'plugin-compute-ray',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
};
