import { definePlugin, secret, z } from '@trellis/plugin-sdk';
import { AesKeyManager } from './aes-key-manager';

/** The config of an instance: `kms.<name>.config` in trellis.yaml, checked before `create()`. */
export const aesKmsConfig = z
  .object({
    /**
     * 32 random bytes, base64: the key every key-encryption key is derived from. A secret, so the
     * configuration holds a reference (`env:ACME_KMS_MASTER_KEY`, `file:/run/secrets/kms`).
     */
    masterKey: secret(z.base64().refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes, base64-encoded')),
  })
  .strict();

/** Envelope encryption under keys derived from one master key; nothing is kept on disk. */
export default definePlugin({
  manifest: { kind: 'kms', id: 'kms-aes-outside', apiVersion: 'v1' },
  configSchema: aesKmsConfig,
  create: (_ctx, config) => new AesKeyManager(Buffer.from(config.masterKey, 'base64')),
});

export { AesKeyManager } from './aes-key-manager';
