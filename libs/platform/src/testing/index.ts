export * from './test-key-set';
export * from './test-platform';
