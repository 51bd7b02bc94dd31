import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { FailedPreconditionError, LOGGER, Outbox, SERVICE_CONFIG, type Logger, type Worker } from '@trellis/platform';
import { DataSource } from 'typeorm';
import type { GovernanceConfig } from '../governance.config';
import type { StoredCheckpoint } from './audit-checkpoint.repository';
import { createCheckpoint } from './checkpoint';
import { CheckpointKeySource } from './checkpoint-key';
import type { CheckpointSigner } from './checkpoint-signer';

/**
 * Signs the chain's head. As governance's worker (one replica at a time) it signs every
 * `checkpointEverySeconds` when the head has moved, and as soon as `checkpointEveryRecords`
 * records were appended in this process since its last checkpoint; any replica signs on demand.
 * One checkpoint at a time in a process; replicas take turns on the chain head. A background
 * checkpoint that fails is logged and tried again at the next occasion.
 */
@Injectable()
export class AuditCheckpointer implements Worker, OnModuleDestroy {
  private appended = 0;
  private wake?: () => void;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly keys: CheckpointKeySource,
    @Inject(SERVICE_CONFIG) private readonly config: GovernanceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const key = await this.keys.key();
    // With checkpoints off there is nothing to do in the background; Verify says why.
    if ('off' in key) return signal.aborted ? undefined : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!signal.aborted) {
      await this.nextOccasion(signal);
      if (!signal.aborted) await this.inTurn(() => this.signInBackground(key.signer));
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.turn;
  }

  /** Counts records the chain took; a checkpoint follows once there are enough. */
  recordsAppended(count: number): void {
    this.appended += count;
    if (this.appended >= this.config.checkpointEveryRecords) this.wake?.();
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

  /** Resolves after `checkpointEverySeconds`, once enough records were appended, or when `signal` aborts. */
  private nextOccasion(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.config.checkpointEverySeconds * 1000);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
      if (this.appended >= this.config.checkpointEveryRecords) done();
    });
  }

  private async signInBackground(signer: CheckpointSigner): Promise<void> {
    await this.sign(signer).catch((error: unknown) =>
      this.logger.error({ err: error }, 'could not sign an audit checkpoint; it is tried again at the next occasion'),
    );
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
