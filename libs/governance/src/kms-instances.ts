import { ConfigError, kmsLocalWithKeyFile, type PluginInstances } from '@trellis/platform';
import type { KeyManager } from '@trellis/plugin-sdk';

/** The kms instance that signs audit checkpoints unless `services.governance.checkpointKms` names another. */
export const CHECKPOINT_KMS_INSTANCE = 'audit-checkpoints';

/** The kms instance that wraps token signing keys unless `services.governance.signingKeyKms` names another. */
export const SIGNING_KEY_KMS_INSTANCE = 'signing-keys';

/**
 * Governance's own kms instances, made when the config declares none of their names: kms-local
 * with the key files governance has always used, so an existing data directory's checkpoints and
 * wrapped signing keys stay readable.
 */
export const GOVERNANCE_KMS_DEFAULTS = {
  [CHECKPOINT_KMS_INSTANCE]: kmsLocalWithKeyFile('audit-checkpoint.key'),
  [SIGNING_KEY_KMS_INSTANCE]: kmsLocalWithKeyFile('signing-keys.key'),
};

/** Why a setting's kms instance is missing when it is governance's own default that the kit could not make. */
export function defaultKmsMissing(setting: string): string {
  return `services.governance.${setting} is not set and kms-local, the default, is not built into this program`;
}

/**
 * The kms instance `services.governance.<setting>` names, opened: undefined when the setting keeps
 * its default (`fallback`) and the kit could not make it; a ConfigError naming the setting and the
 * instances there are when it names one governance does not have.
 */
export async function openSettingKms(kms: PluginInstances<'kms'>, setting: string, name: string, fallback: string): Promise<KeyManager | undefined> {
  if (kms.has(name)) return kms.open(name);
  if (name === fallback) return undefined;
  throw new ConfigError(`services.governance.${setting}: governance has no kms instance named "${name}"; its kms instances: ${kms.names().join(', ') || 'none'}`);
}
