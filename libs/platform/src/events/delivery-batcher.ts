import type { EventEnvelope } from '@trellis/proto';
import type { SubscribeBatch } from './event-bus';

interface Gathered {
  envelope: EventEnvelope;
  sequence: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers deliveries that arrive one at a time (a JetStream consumer's messages) into the batches
 * of a {@link SubscribeBatch}: a batch goes when it holds `maxEvents`, or `lingerMs` after its first
 * delivery, sorted by stream sequence; batches are handled one after another. Each `add` settles
 * with its batch: resolved once the batch handler resolved, rejected with its error.
 */
export class DeliveryBatcher {
  private pending: Gathered[] = [];
  private timer?: NodeJS.Timeout;
  private handling: Promise<void> = Promise.resolve();

  constructor(private readonly batch: SubscribeBatch) {}

  /** Adds one delivery; `sequence` is its place in the stream. */
  add(envelope: EventEnvelope, sequence: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ envelope, sequence, resolve, reject });
      if (this.pending.length >= this.batch.maxEvents) this.flush();
      else if (this.pending.length === 1) this.timer = setTimeout(() => this.flush(), this.batch.lingerMs);
    });
  }

  /** Sends what is gathered now, without waiting for the linger (a stopping subscription). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken = this.pending;
    if (taken.length === 0) return;
    this.pending = [];
    taken.sort((a, b) => a.sequence - b.sequence);
    this.handling = this.handling.then(async () => {
      try {
        await this.batch.handler(taken.map((each) => each.envelope));
      } catch (error) {
        for (const each of taken) each.reject(error);
        return;
      }
      for (const each of taken) each.resolve();
    });
  }
}
