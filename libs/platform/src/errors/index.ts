export * from './domain-errors';
export * from './grpc-error';
export * from './field-checks';
export * from './status-details';
