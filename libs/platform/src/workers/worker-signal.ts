import { pause } from '@trellis/plugin-sdk';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/**
 * Wakes a worker of this replica when there is work for it, so it does not wait for its next poll
 * (the poll still finds work written by other replicas). A service subclasses it once per worker,
 * as an injectable of its own: `@Injectable() class RolloutSignal extends WorkerSignal {}`.
 */
export class WorkerSignal {
  private woken = false;
  private waker?: AbortController;
  private readonly hooked = new WeakSet<DataSource>();
  private readonly wrote = new WeakSet<QueryRunner>();

  /** Wakes the worker now. */
  wake(): void {
    this.woken = true;
    this.waker?.abort();
  }

  /**
   * Wakes the worker once the transaction of `manager` commits (at once outside one), so it sees
   * what the transaction wrote; a rollback wakes nothing.
   */
  wakeAfterCommit(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) return this.wake();
    this.hook(manager.connection);
    this.wrote.add(runner);
  }

  /** Waits until woken (since the last wait, too), `ms` passed, or `signal` aborted. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.woken) {
      this.waker = new AbortController();
      await pause(ms, AbortSignal.any([signal, this.waker.signal]));
      this.waker = undefined;
    }
    this.woken = false;
  }

  private hook(dataSource: DataSource): void {
    if (this.hooked.has(dataSource)) return;
    this.hooked.add(dataSource);
    const subscriber: EntitySubscriberInterface = {
      // A savepoint ending is not a commit: wait for the outermost transaction.
      afterTransactionCommit: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive && this.wrote.delete(queryRunner)) this.wake();
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive) this.wrote.delete(queryRunner);
      },
    };
    dataSource.subscribers.push(subscriber);
  }
}
