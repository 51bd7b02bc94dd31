import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONFIG, FailedPreconditionError, LOGGER, Outbox, type Logger, type TrellisConfig } from '@trellis/platform';
import { DataSource } from 'typeorm';
import type { StoredCheckpoint } from './audit-checkpoint.repository';
import { createCheckpoint } from './checkpoint';
import { CheckpointKeySource } from './checkpoint-key';
import type { CheckpointSigner } from './checkpoint-signer';

/**
 * Signs the chain's head: once `audit.checkpointEveryRecords` records were appended in this
 * process since its last checkpoint, every `audit.checkpointEverySeconds` when the head has moved,
 * and on demand. One checkpoint at a time in a process; replicas take turns on the chain head.
 * A background checkpoint that fails is logged and tried again at the next occasion.
 */
@Injectable()
export class AuditCheckpointer implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private appended = 0;
  private backgroundQueued = false;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly keys: CheckpointKeySource,
    @Inject(CONFIG) private readonly config: TrellisConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.inBackground(), this.config.audit.checkpointEverySeconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.turn;
  }

  /** Counts records the chain took; a checkpoint follows once there are enough. */
  recordsAppended(count: number): void {
    this.appended += count;
    if (this.appended >= this.config.audit.checkpointEveryRecords) this.inBackground();
  }

  /**
   * Signs the head now (after a checkpoint under way) and returns the checkpoint that covers it,
   * undefined while the chain is empty.
   *
   * @throws FailedPreconditionError when checkpoints are off (no KMS to sign with).
   */
  checkpointNow(): Promise<StoredCheckpoint | undefined> {
    return this.inTurn(async () => {
      const key = await this.keys.key();
      if ('off' in key) throw new FailedPreconditionError(`audit checkpoints are off: ${key.off}`, { reason: 'AUDIT_CHECKPOINTS_OFF' });
      return this.sign(key.signer);
    });
  }

  private inBackground(): void {
    if (this.backgroundQueued) return;
    this.backgroundQueued = true;
    void this.inTurn(async () => {
      this.backgroundQueued = false;
      const key = await this.keys.key();
      if ('off' in key) return;
      await this.sign(key.signer).catch((error: unknown) =>
        this.logger.error({ err: error }, 'could not sign an audit checkpoint; it is tried again at the next occasion'),
      );
    });
  }

  private sign(signer: CheckpointSigner): Promise<StoredCheckpoint | undefined> {
    this.appended = 0;
    return createCheckpoint(this.dataSource, this.outbox, signer);
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work);
    this.turn = next.catch(() => undefined);
    return next;
  }
}
