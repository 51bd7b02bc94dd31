import { Inject, Injectable } from '@nestjs/common';
import { InjectPluginInstances, LOGGER, SERVICE_CONFIG, type Logger, type PluginInstances } from '@trellis/platform';
import type { KeyManager } from '@trellis/plugin-sdk';
import { createPrivateKey } from 'node:crypto';
import type { GovernanceConfig } from '../governance.config';
import { defaultKmsMissing, openSettingKms, SIGNING_KEY_KMS_INSTANCE } from '../kms-instances';

/** The KMS key id signing keys are wrapped under. */
const SIGNING_KEY_ID = 'trellis-signing-keys';

/** The key of a signing key's wrapping context: a wrapped key opens only for its own row. */
const CONTEXT_KEY = 'trellis.signing-key';

/**
 * Wraps and unwraps governance's token signing keys with a KMS instance, so that its database holds
 * no private key in the clear: the kms instance `services.governance.signingKeyKms` names, by
 * default governance's own `signing-keys` (kms-local with the key file `<dataDir>/keys/signing-keys.key`,
 * which the kit makes). When the default cannot be made (kms-local not built into the program, no
 * `kms.signing-keys` in the config), keys are kept in the clear, which the start logs; a named
 * instance that does not exist is a ConfigError naming the setting.
 */
@Injectable()
export class SigningKeyKms {
  private opening?: Promise<KeyManager | undefined>;

  constructor(
    @InjectPluginInstances('kms') private readonly kms: PluginInstances<'kms'>,
    @Inject(SERVICE_CONFIG) private readonly settings: GovernanceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

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
    if (!kms) throw new Error(`signing key ${kid} is wrapped by a KMS, and there is none: set services.governance.signingKeyKms to a kms instance, or build kms-local into the program`);
    const der = Buffer.from(await kms.unwrapKey(SIGNING_KEY_ID, Buffer.from(wrapped, 'base64'), { [CONTEXT_KEY]: kid }));
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
    } finally {
      der.fill(0);
    }
  }

  private async open(): Promise<KeyManager | undefined> {
    const kms = await openSettingKms(this.kms, 'signingKeyKms', this.settings.signingKeyKms, SIGNING_KEY_KMS_INSTANCE);
    if (!kms) this.logger.warn({ reason: defaultKmsMissing('signingKeyKms') }, 'token signing keys are kept in the clear in the database');
    return kms;
  }
}
