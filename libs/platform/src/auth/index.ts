export * from './ability';
export * from './auth.guard';
export * from './call-context';
export * from './caller';
export * from './permission.decorator';
export * from './principal';
export * from './token-verifier';
export * from './rate-limiter';
