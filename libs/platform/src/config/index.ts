export * from './config-error';
export * from './config.schema';
export * from './load-config';
export * from './service-section';
