import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { GrantSchema, PlacementPolicy, QueueSchema, ReclaimWithinCohort, ResourceQuotaSchema, WithinQueue, type Grant, type Queue } from '@trellis/proto';
import type { PlacementPolicy as Placement, ReclaimWithinCohort as Reclaim, Resources, WithinQueue as Within } from '../admission';
import { amountsToProto } from '../resources';
import { clustersOf, type GrantEntity, type QueueEntity } from './queue.entity';

const RECLAIM: Record<Reclaim, ReclaimWithinCohort> = {
  NEVER: ReclaimWithinCohort.NEVER,
  LOWER_PRIORITY: ReclaimWithinCohort.LOWER_PRIORITY,
  ANY: ReclaimWithinCohort.ANY,
};
const WITHIN: Record<Within, WithinQueue> = { NEVER: WithinQueue.NEVER, LOWER_PRIORITY: WithinQueue.LOWER_PRIORITY };
const PLACEMENT: Record<Placement, PlacementPolicy> = {
  FIRST_FIT: PlacementPolicy.FIRST_FIT,
  LEAST_LOADED: PlacementPolicy.LEAST_LOADED,
  CHEAPEST: PlacementPolicy.CHEAPEST,
};

/** The policy a proto enum names; UNSPECIFIED is FIRST_FIT, and a number no value has is undefined. */
export function placementOf(value: PlacementPolicy): Placement | undefined {
  if (value === PlacementPolicy.UNSPECIFIED) return 'FIRST_FIT';
  return (Object.keys(PLACEMENT) as Placement[]).find((key) => PLACEMENT[key] === value);
}

/** The policy a proto enum names; UNSPECIFIED is NEVER. */
export function reclaimOf(value: ReclaimWithinCohort): Reclaim {
  return (Object.keys(RECLAIM) as Reclaim[]).find((key) => RECLAIM[key] === value) ?? 'NEVER';
}

/** The policy a proto enum names; UNSPECIFIED is NEVER. */
export function withinOf(value: WithinQueue): Within {
  return (Object.keys(WITHIN) as Within[]).find((key) => WITHIN[key] === value) ?? 'NEVER';
}

/** The proto of a stored queue. */
export function queueToProto(entity: QueueEntity): Queue {
  return create(QueueSchema, {
    name: entity.name,
    cluster: clustersOf(entity)[0].name,
    clusters: clustersOf(entity),
    placement: PLACEMENT[entity.placement],
    cohort: entity.cohort,
    preemption: { reclaimWithinCohort: RECLAIM[entity.reclaimWithinCohort], withinQueue: WITHIN[entity.withinQueue] },
    description: entity.description,
    creatorId: entity.creatorId,
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
  });
}

/** The proto of a stored grant with its usage now. */
export function grantToProto(entity: GrantEntity, usage: Resources): Grant {
  return create(GrantSchema, {
    queue: entity.queue,
    projectId: entity.projectId,
    quotas: Object.keys(entity.quotas)
      .sort()
      .map((resource) => {
        const quota = entity.quotas[resource];
        return create(ResourceQuotaSchema, {
          resource,
          nominal: BigInt(quota.nominal),
          borrowingLimit: quota.borrowingLimit === undefined ? undefined : BigInt(quota.borrowingLimit),
          lendingLimit: quota.lendingLimit === undefined ? undefined : BigInt(quota.lendingLimit),
        });
      }),
    usage: amountsToProto(usage),
    createTime: timestampFromMs(entity.createdAt),
    updateTime: timestampFromMs(entity.updatedAt),
  });
}
