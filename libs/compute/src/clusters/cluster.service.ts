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

/** Health checks failed in a row after which a cluster has stopped answering, and its jobs move. */
export const FAILOVER_AFTER_FAILED_CHECKS = 3;

/**
 * The service's clusters: its compute plugin instances. Capacity is asked of each backend and
 * kept for `capacityCacheMs`, so the admission loop does not call backends on every pass; each
 * time it is asked counts as a health check.
 */
@Injectable()
export class ClusterService {
  private readonly cache = new Map<string, { at: number; view: ClusterView }>();
  /** Health checks failed in a row, by cluster. */
  private readonly failedChecks = new Map<string, number>();

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
    this.failedChecks.set(name, view.healthy ? 0 : (this.failedChecks.get(name) ?? 0) + 1);
    return view;
  }

  /** What admission needs of a cluster: its capacity as an upper bound, the memory of its GPU types, and whether it answers (nothing new is placed on one that does not). */
  async forAdmission(name: string): Promise<AdmissionCluster> {
    const view = this.instances.has(name) ? await this.describe(name) : undefined;
    return { id: name, name, capacity: view?.healthy ? view.capacity : {}, gpuMemoryBytes: view?.gpuMemoryBytes ?? {}, healthy: view?.healthy ?? false };
  }

  /**
   * Checks the cluster's health (within `capacityCacheMs`) and says why its jobs must move: its
   * plugin instance is gone, or its last FAILOVER_AFTER_FAILED_CHECKS checks failed. Undefined while it answers.
   */
  async stoppedAnswering(name: string): Promise<string | undefined> {
    if (!this.instances.has(name)) return `moved: cluster ${name} stopped answering (its compute instance was deleted)`;
    const view = await this.describe(name);
    if ((this.failedChecks.get(name) ?? 0) < FAILOVER_AFTER_FAILED_CHECKS) return undefined;
    return `moved: cluster ${name} stopped answering (${FAILOVER_AFTER_FAILED_CHECKS} health checks failed in a row: ${excerpt(view.healthMessage || 'unhealthy')})`;
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
