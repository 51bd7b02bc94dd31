export * from './auth';
export * from './config';
export * from './errors';
export * from './events';
export * from './grpc';
export * from './ops';
export * from './persistence';
export * from './service';
