export * from './define-service';
export * from './kit.module';
export * from './permission-check';
export * from './platform-runtime';
export * from './start-service';
export * from './run-process';
export * from './unauthenticated-probe';
export * from './storage-instances';
