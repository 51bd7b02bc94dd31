import { type ConfigIssue, definePlugin, type PluginContext, PluginConfigError, z } from '@trellis/plugin-sdk';
import { LocalKeyManager } from './local-key-manager';
import { type Loaded, loadKeyEnv, loadKeyFile, type MasterKey } from './master-keys';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name is letters, digits and _, not starting with a digit');
const keyFile = z.string().min(1, 'a master key file path may not be empty');

/**
 * The config of a kms-local instance. The master key comes from exactly one of a file (32 random
 * bytes, raw or base64; readable by the Trellis user only) or an environment variable (base64):
 * the config names where the secret is, never the secret. During a rotation the earlier keys are
 * listed as previous keys, so data keys they wrapped still unwrap until they are rewrapped.
 */
export const kmsLocalConfig = z
  .object({
    /** A file holding the current master key. */
    masterKeyFile: keyFile.optional(),
    /** An environment variable holding the current master key in base64. */
    masterKeyEnv: envName.optional(),
    /** Files of earlier master keys, kept to unwrap what they wrapped. */
    previousMasterKeyFiles: z.array(keyFile).default([]),
    /** Environment variables of earlier master keys, in base64. */
    previousMasterKeyEnvs: z.array(envName).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.masterKeyFile === undefined && config.masterKeyEnv === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'set masterKeyFile (a file holding the 32-byte master key, raw or base64) or masterKeyEnv (an environment variable holding it in base64)',
      });
    }
    if (config.masterKeyFile !== undefined && config.masterKeyEnv !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set only one of masterKeyFile and masterKeyEnv: the current master key comes from one place' });
    }
  });

/** Envelope encryption with a master key held by the Trellis process: the reference KMS plugin, for standalone Trellis and small deployments. */
export const kmsLocalPlugin = definePlugin({
  manifest: { kind: 'kms', id: 'kms-local', apiVersion: 'v1' },
  configSchema: kmsLocalConfig,
  create: async (ctx, config) => {
    const issues: ConfigIssue[] = [];
    const take = (loaded: Loaded, path: string): MasterKey | undefined => {
      if ('problem' in loaded) {
        issues.push({ path, message: loaded.problem });
        return undefined;
      }
      if (loaded.readableByOthers) ctx.logger.warn({ source: loaded.key.source }, 'the master key file can be read by other users than its owner; chmod 600 it');
      return loaded.key;
    };
    const current = config.masterKeyFile !== undefined ? take(await loadKeyFile(config.masterKeyFile), 'masterKeyFile') : take(loadKeyEnv(config.masterKeyEnv as string), 'masterKeyEnv');
    const previous: MasterKey[] = [];
    for (const [i, file] of config.previousMasterKeyFiles.entries()) previous.push(...present(take(await loadKeyFile(file), `previousMasterKeyFiles[${i}]`)));
    for (const [i, name] of config.previousMasterKeyEnvs.entries()) previous.push(...present(take(loadKeyEnv(name), `previousMasterKeyEnvs[${i}]`)));
    if (!current || issues.length > 0) throw configError(ctx, issues);
    const manager = new LocalKeyManager(ctx.instanceName, current, previous);
    ctx.logger.info({ masterKeyId: current.id, previousMasterKeyIds: previous.map((k) => k.id) }, 'kms-local holds its master keys');
    return manager;
  },
});

function present(key: MasterKey | undefined): MasterKey[] {
  return key ? [key] : [];
}

function configError(ctx: PluginContext, issues: ConfigIssue[]): PluginConfigError {
  return new PluginConfigError({ instance: ctx.instanceName, kind: 'kms', plugin: 'kms-local', issues });
}
