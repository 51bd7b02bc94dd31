export * from './call-pipeline';
export * from './grpc-client';
export * from './grpc-server';
export * from './package-definition';
export * from './metrics-interceptor';
export * from './paging';
export * from './method-path';
export * from './service-clients';
