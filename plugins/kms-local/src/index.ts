import { kmsLocalPlugin } from './kms-local.plugin';

export { LocalKeyManager } from './local-key-manager';
export { kmsLocalConfig } from './kms-local.plugin';
export { masterKeyId } from './master-keys';
export default kmsLocalPlugin;
