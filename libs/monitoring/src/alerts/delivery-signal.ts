import { Injectable } from '@nestjs/common';
import { pause } from '@trellis/platform';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/**
 * Wakes the alert delivery worker of this replica once a transaction that wrote deliveries
 * commits, so an alert reaches its notifiers without waiting for the worker's next poll (the
 * poll still finds those written on other replicas).
 */
@Injectable()
export class DeliverySignal {
  private woken = false;
  private waker?: AbortController;
  private readonly hooked = new WeakSet<DataSource>();
  private readonly wrote = new WeakSet<QueryRunner>();

  /** Wakes the worker when the transaction of `manager` commits (at once outside one). */
  wakeAfterCommit(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) return this.wake();
    this.hook(manager.connection);
    this.wrote.add(runner);
  }

  wake(): void {
    this.woken = true;
    this.waker?.abort();
  }

  /** Waits until woken, `ms` passed, or `signal` aborted. */
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
