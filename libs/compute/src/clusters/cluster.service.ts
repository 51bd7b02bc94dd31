import { Inject, Injectable } from '@nestjs/common';
import { excerpt, InjectPluginInstances, NotFoundError, PluginInstances, SERVICE_CONFIG } from '@trellis/platform';
import type { ComputeBackend } from '@trellis/plugin-sdk';
import type { AdmissionCluster } from '../admission';
import type { ComputeConfig } from '../compute.config';
import { resourcesOf } from '../resources';

/** A cluster as ListClusters and GetCluster show it. */
export interface ClusterView {
  name: string;
  plugin: string;
  capacity: Record<string, number>;
  available: Record<string, number>;
  gpuMemoryBytes: Record<string, number>;
  healthy: boolean;
  healthMessage: string;
}

/**
 * The service's clusters: its compute plugin instances. Capacity is asked of each backend and
 * kept for `capacityCacheMs`, so the admission loop does not call backends on every pass.
 */
@Injectable()
export class ClusterService {
  private readonly cache = new Map<string, { at: number; view: ClusterView }>();

  constructor(
    @InjectPluginInstances('compute') private readonly instances: PluginInstances<'compute'>,
    @Inject(SERVICE_CONFIG) private readonly config: ComputeConfig,
  ) {}

  /** Every cluster's name, configured ones first. */
  names(): string[] {
    return this.instances.names();
  }

  /** NOT_FOUND `CLUSTER_NOT_FOUND` naming the clusters there are, unless the service has `name`. */
  check(name: string, field = 'name'): void {
    if (this.instances.has(name)) return;
    const names = this.names();
    throw new NotFoundError(`${field}: no cluster is named "${excerpt(name)}"; there are ${names.length ? names.join(', ') : 'none (add a compute instance first)'}`, {
      reason: 'CLUSTER_NOT_FOUND',
      resource: `clusters/${excerpt(name)}`,
    });
  }

  /** The backend of the cluster. */
  backend(name: string): Promise<ComputeBackend> {
    this.check(name);
    return this.instances.open(name);
  }

  /** The cluster as its backend reports it, asked now (`fresh`) or within `capacityCacheMs`. */
  async describe(name: string, fresh = false): Promise<ClusterView> {
    this.check(name);
    const cached = this.cache.get(name);
    if (!fresh && cached && Date.now() - cached.at < this.config.capacityCacheMs) return cached.view;
    const view = await this.ask(name);
    this.cache.set(name, { at: Date.now(), view });
    return view;
  }

  /** What admission needs of a cluster: its capacity as an upper bound, and the memory of its GPU types. */
  async forAdmission(name: string): Promise<AdmissionCluster> {
    const view = this.instances.has(name) ? await this.describe(name) : undefined;
    return { id: name, name, capacity: view?.healthy ? view.capacity : {}, gpuMemoryBytes: view?.gpuMemoryBytes ?? {} };
  }

  private async ask(name: string): Promise<ClusterView> {
    const info = await this.instances.describe(name);
    const base = { name, plugin: info.plugin, capacity: {}, available: {}, gpuMemoryBytes: {} };
    try {
      const backend = await this.instances.open(name);
      const [health, capacity] = await Promise.all([this.instances.health(name), backend.capacity()]);
      const gpuMemoryBytes = Object.fromEntries(Object.entries(capacity.total.gpus).map(([type, pool]) => [type, pool.memoryBytes]));
      return {
        ...base,
        capacity: resourcesOf(capacity.total),
        available: capacity.available ? resourcesOf(capacity.available) : {},
        gpuMemoryBytes,
        healthy: health.ok,
        healthMessage: health.ok ? '' : (health.message ?? ''),
      };
    } catch (error) {
      return { ...base, healthy: false, healthMessage: `its backend did not report its capacity: ${(error as Error).message}` };
    }
  }
}
