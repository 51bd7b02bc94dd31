import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS, watchEvent, type EventBus, type EventSubscription } from '@trellis/platform';
import { registryEvents } from '../registry.events';

/**
 * How often a waiting call reads its version again without being woken: the safety net for a
 * settle no event told this process about (a replica that failed its copies when it started
 * publishes none, and events wait in the outbox while the bus is down).
 */
export const RECHECK_MS = 5_000;

/** When a wait gives up: the call's deadline (ms since the epoch; Infinity for none), or the client cancelling. */
export interface WaitEnd {
  deadlineMs: number;
  cancelled: AbortSignal;
}

/** Why a wait for news ended: woken or due for a re-read (`recheck`), or given up (`deadline`, `cancelled`). */
export type WakeReason = 'woken' | 'recheck' | 'deadline' | 'cancelled';

/**
 * Wakes WaitVersion calls when versions of a project may have settled: at once for the copies
 * this process ends, and on trellis.registry.v1.version.settled for those another replica ends.
 * A woken call reads its version from the database, which has the last word.
 */
@Injectable()
export class VersionWaiters implements OnModuleInit, OnModuleDestroy {
  private readonly waiting = new Map<string, Set<() => void>>();
  private watch?: EventSubscription;

  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  async onModuleInit(): Promise<void> {
    this.watch = await watchEvent(this.bus, registryEvents, {
      subject: 'trellis.registry.v1.version.settled',
      since: new Date(),
      handler: (event) => this.wake(event.version?.projectId ?? ''),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.watch?.stop();
  }

  /** Wakes every call waiting on a version of the project. */
  wake(projectId: string): void {
    for (const wake of this.waiting.get(projectId) ?? []) wake();
  }

  /**
   * Listens for the next wake for the project: `reason` resolves then, after RECHECK_MS, at the
   * deadline, or when the call is cancelled, whichever comes first; `stop` ends the listening
   * early. Listen before reading the version, so a settle between the read and the wait is not
   * missed.
   */
  listen(projectId: string, end: WaitEnd): { reason: Promise<WakeReason>; stop(): void } {
    let finish: (reason: WakeReason) => void = () => undefined;
    const reason = new Promise<WakeReason>((resolve) => {
      const left = end.deadlineMs - Date.now();
      const listeners = this.waiting.get(projectId) ?? new Set<() => void>();
      this.waiting.set(projectId, listeners);
      const woken = () => finish('woken');
      const cancel = () => finish('cancelled');
      const timer = setTimeout(() => finish(left <= RECHECK_MS ? 'deadline' : 'recheck'), Math.max(0, Math.min(left, RECHECK_MS)));
      finish = (why) => {
        clearTimeout(timer);
        end.cancelled.removeEventListener('abort', cancel);
        listeners.delete(woken);
        if (listeners.size === 0 && this.waiting.get(projectId) === listeners) this.waiting.delete(projectId);
        resolve(why);
      };
      listeners.add(woken);
      end.cancelled.addEventListener('abort', cancel, { once: true });
      if (end.cancelled.aborted) cancel();
    });
    return { reason, stop: () => finish('cancelled') };
  }
}
