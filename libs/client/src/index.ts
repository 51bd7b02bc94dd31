export { GatewayClient, ndjsonLines, type CallOptions, type CredentialSource, type GatewayClientOptions, type RpcMethod } from './gateway-client';
export { GatewayRequestError, type FieldViolation, type GatewayErrorBody } from './gateway-error';
export { ApiKeySession } from './api-key-session';
export { hasRole, ROLES, tokenClaims, type Role, type TokenClaims } from './token-claims';
export { formatBytes } from './format-bytes';
export { conditionText, enumText, sourceText, verdictText, windowText } from './monitoring-text';
export { amounts, FINAL_JOB_STATES, inAdmissionOrder, isFinalJob, quantity, shellWords } from './job-text';
