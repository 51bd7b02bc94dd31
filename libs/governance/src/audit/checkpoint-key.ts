import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigError, InjectPluginInstances, LOGGER, SERVICE_CONFIG, type Logger, type PluginInstances } from '@trellis/platform';
import { CheckpointSigner, computesMacs } from './checkpoint-signer';
import type { GovernanceConfig } from '../governance.config';
import { CHECKPOINT_KMS_INSTANCE, defaultKmsMissing, openSettingKms } from '../kms-instances';

/** The signer of checkpoints, or why there is none. */
export type CheckpointKey = { signer: CheckpointSigner } | { off: string };

/**
 * The KMS instance that signs checkpoints, picked once when governance starts: the kms instance
 * `services.governance.checkpointKms` names, by default governance's own `audit-checkpoints`
 * (kms-local with the key file `<dataDir>/keys/audit-checkpoint.key`, which the kit makes). A named
 * instance that does not exist or computes no MACs stops the start. When the default cannot be made
 * (kms-local not built into the program, no `kms.audit-checkpoints` in the config), checkpoints are
 * off, which the start logs and Verify reports.
 */
@Injectable()
export class CheckpointKeySource implements OnModuleInit {
  private opening?: Promise<CheckpointKey>;

  constructor(
    @InjectPluginInstances('kms') private readonly kms: PluginInstances<'kms'>,
    @Inject(SERVICE_CONFIG) private readonly settings: GovernanceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const key = await this.key();
    if ('off' in key) this.logger.warn({ reason: key.off }, 'audit checkpoints are off: nothing vouches for the audit chain beyond its own hashes');
  }

  /** The key, opened on first use. */
  key(): Promise<CheckpointKey> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<CheckpointKey> {
    const name = this.settings.checkpointKms;
    const kms = await openSettingKms(this.kms, 'checkpointKms', name, CHECKPOINT_KMS_INSTANCE);
    if (!kms) return { off: defaultKmsMissing('checkpointKms') };
    const { plugin } = await this.kms.describe(name);
    if (!computesMacs(kms)) {
      throw new ConfigError(
        `services.governance.checkpointKms: kms instance "${name}" (plugin ${plugin}) computes no MACs (the kms contract's mac and verifyMac); audit checkpoints need a KMS that does, such as kms-local`,
      );
    }
    this.logger.info({ instance: name, plugin }, 'audit checkpoints are signed with a KMS key');
    return { signer: new CheckpointSigner(kms) };
  }
}
