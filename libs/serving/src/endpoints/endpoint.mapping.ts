import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { EndpointSchema, RevisionSchema, RevisionState, type Endpoint, type Revision } from '@trellis/proto';
import type { RolloutEntity, RolloutPolicyEntity } from '../rollouts/rollout.entity';
import { policyToProto, rolloutToProto } from '../rollouts/rollout.mapping';
import type { EndpointEntity, RevisionEntity } from './endpoint.entity';
import { splitToProto } from './split.mapping';
import { revisionsOf } from './traffic';

/** An endpoint with the revisions its splits name, as every call and event returns it. */
export interface EndpointView {
  endpoint: EndpointEntity;
  /** Newest first. */
  revisions: RevisionEntity[];
  /** The policy the endpoint follows alias moves by, where it was read (GetEndpoint, ListEndpoints). */
  rolloutPolicy?: RolloutPolicyEntity;
  /** The endpoint's latest rollout, where it was read. */
  rollout?: RolloutEntity;
}

export function endpointToProto({ endpoint, revisions, rolloutPolicy, rollout }: EndpointView): Endpoint {
  const named = new Set([...revisionsOf(endpoint.traffic), ...revisionsOf(endpoint.previousTraffic)]);
  return create(EndpointSchema, {
    id: endpoint.id,
    projectId: endpoint.projectId,
    name: endpoint.name,
    description: endpoint.description,
    creatorId: endpoint.creatorId,
    createTime: timestampFromMs(endpoint.createdAt),
    updateTime: timestampFromMs(endpoint.updatedAt),
    batching: endpoint.maxBatchSize > 1 ? { maxBatchSize: endpoint.maxBatchSize, maxQueueDelayUs: BigInt(endpoint.maxQueueDelayUs) } : undefined,
    traffic: splitToProto(endpoint.traffic),
    previousTraffic: endpoint.previousTraffic ? splitToProto(endpoint.previousTraffic) : undefined,
    revisions: revisions.filter((revision) => named.has(revision.id)).map(revisionToProto),
    rolloutPolicy: rolloutPolicy ? policyToProto(rolloutPolicy) : undefined,
    rollout: rollout ? rolloutToProto(rollout) : undefined,
  });
}

export function revisionToProto(revision: RevisionEntity): Revision {
  return create(RevisionSchema, {
    id: revision.id,
    endpointId: revision.endpointId,
    number: revision.number,
    modelRef: revision.modelRef,
    modelName: revision.modelName,
    modelVersion: BigInt(revision.modelVersion),
    resolvedAlias: revision.resolvedAlias,
    runId: revision.runId,
    artifactUri: revision.artifactUri,
    modelFormat: revision.modelFormat,
    runtime: revision.runtime,
    replicas: revision.replicas,
    resources: { ...revision.resources, cpuMillicores: BigInt(revision.resources.cpuMillicores), memoryBytes: BigInt(revision.resources.memoryBytes) },
    state: RevisionState[revision.state],
    stateMessage: revision.stateMessage,
    creatorId: revision.creatorId,
    createTime: timestampFromMs(revision.createdAt),
  });
}
