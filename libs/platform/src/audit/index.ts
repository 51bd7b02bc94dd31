export * from './audit-recorder';
export * from './audit.interceptor';
export * from './resource-name';
