import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONFIG, ConfigError, LOGGER, PluginRegistry, SERVICE_CONFIG, type InstanceSpec, type Logger, type TrellisConfig } from '@trellis/platform';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CheckpointSigner, computesMacs } from './checkpoint-signer';
import type { GovernanceConfig } from '../governance.config';

/** The name of the kms instance that signs checkpoints. */
export const CHECKPOINT_KMS_INSTANCE = 'audit-checkpoints';

/** The signer of checkpoints, or why there is none. */
export type CheckpointKey = { signer: CheckpointSigner } | { off: string };

/**
 * Opens the KMS instance that signs checkpoints, once, when governance starts: the one in
 * `services.governance.checkpointKms`, else kms-local with the key file `<dataDir>/keys/audit-checkpoint.key`
 * (written with 32 random bytes when missing). A configured instance that cannot be created or
 * computes no MACs stops the start. With nothing configured and kms-local not built into the
 * program, checkpoints are off, which the start logs and Verify reports.
 */
@Injectable()
export class CheckpointKeySource implements OnModuleInit, OnModuleDestroy {
  private opening?: Promise<CheckpointKey>;

  constructor(
    private readonly plugins: PluginRegistry,
    @Inject(CONFIG) private readonly config: TrellisConfig,
    @Inject(SERVICE_CONFIG) private readonly settings: GovernanceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const key = await this.key();
    if ('off' in key) this.logger.warn({ reason: key.off }, 'audit checkpoints are off: nothing vouches for the audit chain beyond its own hashes');
  }

  async onModuleDestroy(): Promise<void> {
    if (this.plugins.instanceNames('kms').includes(CHECKPOINT_KMS_INSTANCE)) await this.plugins.closeInstance('kms', CHECKPOINT_KMS_INSTANCE);
  }

  /** The key, opened on first use. */
  key(): Promise<CheckpointKey> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<CheckpointKey> {
    const spec = await this.instanceSpec();
    if (typeof spec === 'string') return { off: spec };
    const kms = await this.plugins.createInstance('kms', spec);
    if (!computesMacs(kms)) {
      throw new ConfigError(`services.governance.checkpointKms: plugin ${spec.plugin} computes no MACs (the kms contract's mac and verifyMac); audit checkpoints need a KMS that does, such as kms-local`);
    }
    this.logger.info({ instance: CHECKPOINT_KMS_INSTANCE, plugin: spec.plugin }, 'audit checkpoints are signed with a KMS key');
    return { signer: new CheckpointSigner(kms) };
  }

  private async instanceSpec(): Promise<InstanceSpec | string> {
    const configured = this.settings.checkpointKms;
    if (configured) return { name: CHECKPOINT_KMS_INSTANCE, plugin: configured.plugin, config: configured.config };
    if (!this.plugins.plugin('kms', 'kms-local')) {
      return 'services.governance.checkpointKms is not set and kms-local, the default, is not built into this program';
    }
    const masterKeyFile = resolve(join(this.config.dataDir, 'keys', 'audit-checkpoint.key'));
    await writeKeyFileIfMissing(masterKeyFile);
    return { name: CHECKPOINT_KMS_INSTANCE, plugin: 'kms-local', config: { masterKeyFile } };
  }
}

/** Writes 32 random bytes to `path`, readable by this user only, unless the file exists. */
async function writeKeyFileIfMissing(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, randomBytes(32), { flag: 'wx', mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
