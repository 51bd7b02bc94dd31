import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, LOGGER, PluginRegistry, SERVICE_CONFIG, writeKeyFileIfMissing, type InstanceSpec, type Logger, type TrellisConfig } from '@trellis/platform';
import type { KeyManager } from '@trellis/plugin-sdk';
import { createPrivateKey } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { GovernanceConfig } from '../governance.config';

/** The name of the kms instance that wraps signing keys. */
export const SIGNING_KEY_KMS_INSTANCE = 'signing-keys';

/** The KMS key id signing keys are wrapped under. */
const SIGNING_KEY_ID = 'trellis-signing-keys';

/** The key of a signing key's wrapping context: a wrapped key opens only for its own row. */
const CONTEXT_KEY = 'trellis.signing-key';

/**
 * Wraps and unwraps governance's token signing keys with a KMS instance, so that its database holds
 * no private key in the clear: the instance in `services.governance.signingKeyKms`, else kms-local
 * with the key file `<dataDir>/keys/signing-keys.key` (written with 32 random bytes when missing).
 * With neither (kms-local not built into the program), keys are kept in the clear, which the start
 * logs.
 */
@Injectable()
export class SigningKeyKms implements OnModuleDestroy {
  private opening?: Promise<KeyManager | undefined>;

  constructor(
    private readonly plugins: PluginRegistry,
    @Inject(CONFIG) private readonly config: TrellisConfig,
    @Inject(SERVICE_CONFIG) private readonly settings: GovernanceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleDestroy(): Promise<void> {
    if (this.plugins.instanceNames('kms').includes(SIGNING_KEY_KMS_INSTANCE)) await this.plugins.closeInstance('kms', SIGNING_KEY_KMS_INSTANCE);
  }

  /** The KMS instance, opened on first use; undefined when signing keys are kept in the clear. */
  keyManager(): Promise<KeyManager | undefined> {
    this.opening ??= this.open();
    return this.opening;
  }

  /** The private key `pem` (PKCS#8) of key `kid`, wrapped, as base64. */
  async wrap(kms: KeyManager, kid: string, pem: string): Promise<string> {
    const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
    try {
      return Buffer.from(await kms.wrapKey(SIGNING_KEY_ID, der, { [CONTEXT_KEY]: kid })).toString('base64');
    } finally {
      der.fill(0);
    }
  }

  /** The PKCS#8 PEM of key `kid` that `wrap` wrapped; throws when no KMS instance is open or it does not unwrap. */
  async unwrap(kid: string, wrapped: string): Promise<string> {
    const kms = await this.keyManager();
    if (!kms) throw new Error(`signing key ${kid} is wrapped by a KMS, and none is configured: set services.governance.signingKeyKms, or build kms-local into the program`);
    const der = Buffer.from(await kms.unwrapKey(SIGNING_KEY_ID, Buffer.from(wrapped, 'base64'), { [CONTEXT_KEY]: kid }));
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
    } finally {
      der.fill(0);
    }
  }

  private async open(): Promise<KeyManager | undefined> {
    const spec = await this.instanceSpec();
    if (typeof spec === 'string') {
      this.logger.warn({ reason: spec }, 'token signing keys are kept in the clear in the database');
      return undefined;
    }
    return this.plugins.createInstance('kms', spec);
  }

  private async instanceSpec(): Promise<InstanceSpec | string> {
    const configured = this.settings.signingKeyKms;
    if (configured) return { name: SIGNING_KEY_KMS_INSTANCE, plugin: configured.plugin, config: configured.config };
    if (!this.plugins.plugin('kms', 'kms-local')) return 'services.governance.signingKeyKms is not set and kms-local, the default, is not built into this program';
    const masterKeyFile = resolve(join(this.config.dataDir, 'keys', 'signing-keys.key'));
    await writeKeyFileIfMissing(masterKeyFile);
    return { name: SIGNING_KEY_KMS_INSTANCE, plugin: 'kms-local', config: { masterKeyFile } };
  }
}
