module.exports = {
  displayName: 'plugin-runtime-onnx',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.spec.ts'],
  testEnvironment: '<rootDir>/test/typed-arrays.environment.js',
};
