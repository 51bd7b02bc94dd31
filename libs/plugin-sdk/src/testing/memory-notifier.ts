import type { Alert, Notifier } from '../contracts';
import type { NotifierReceiver } from './notifier.conformance';

/**
 * The notifier contract in memory, for specs: `deliver` hands the alert to the notifier's own
 * receiver (`received`), which a spec can make refuse deliveries (`refuse`), as a webhook endpoint
 * answers 500. It passes `describeNotifierConformance`, acting as its own receiver.
 */
export class MemoryNotifier implements Notifier, NotifierReceiver {
  private readonly accepted: Alert[] = [];
  private refusing: string | undefined;

  async deliver(alert: Alert, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await new Promise<void>((resolve) => setImmediate(resolve));
    options.signal?.throwIfAborted();
    if (this.refusing !== undefined) throw new Error(`the receiver refused alert ${alert.id}: ${this.refusing}`);
    this.accepted.push(structuredClone(alert));
  }

  /** Every alert delivered, in order, as the receiver got it (duplicates included). */
  received(): readonly Alert[] {
    return [...this.accepted];
  }

  /** Makes every delivery from now on fail with `reason`, or (with undefined) succeed again. */
  refuse(reason: string | undefined): void {
    this.refusing = reason;
  }
}
