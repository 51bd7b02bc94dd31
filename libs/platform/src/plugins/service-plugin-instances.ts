import type { PluginKind } from '@trellis/plugin-sdk';
import { InvalidArgumentError } from '../errors';
import type { PluginInstances } from './plugin-instances';

/**
 * Every `PluginInstances` of one service, by kind: what its admin API serves. Injectable in the
 * service as is; one kind's instances are injected with `@InjectPluginInstances(kind)`.
 */
export class ServicePluginInstances {
  constructor(
    /** The owning service. */
    readonly service: string,
    private readonly byKind: ReadonlyMap<PluginKind, PluginInstances<PluginKind>>,
  ) {}

  /** The kinds the service declares, in declaration order. */
  kinds(): PluginKind[] {
    return [...this.byKind.keys()];
  }

  /** The service's instances of `kind`; INVALID_ARGUMENT on `field` naming the kinds it uses when it does not use `kind`. */
  of<K extends PluginKind>(kind: K, field = 'kind'): PluginInstances<K> {
    const instances = this.byKind.get(kind);
    if (!instances) {
      throw new InvalidArgumentError(`${this.service} uses no ${kind} plugins; it uses ${this.kinds().join(', ') || 'none'}`, field, { reason: 'PLUGIN_KIND_NOT_USED' });
    }
    return instances as unknown as PluginInstances<K>;
  }

  /** Starts every kind's instances (configured, then stored), in declaration order. */
  async start(): Promise<void> {
    for (const instances of this.byKind.values()) await instances.start();
  }

  /** Closes the service's own instances of every kind. */
  async close(): Promise<void> {
    for (const instances of this.byKind.values()) await instances.close();
  }
}
