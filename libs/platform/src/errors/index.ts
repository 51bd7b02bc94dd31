export * from './domain-errors';
export * from './grpc-error';
