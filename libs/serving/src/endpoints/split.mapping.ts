import { create } from '@bufbuild/protobuf';
import { TrafficSplitSchema, type TrafficSplit } from '@trellis/proto';
import type { StoredSplit } from './traffic';

/** A stored traffic split as the API shows it (endpoints, rollouts and their events). */
export function splitToProto(split: StoredSplit): TrafficSplit {
  return create(TrafficSplitSchema, { targets: split.targets, shadowRevisionId: split.shadowRevisionId });
}

/** A traffic split from a request, as it is stored. */
export function splitFromProto(split: TrafficSplit | undefined): StoredSplit {
  return { targets: (split?.targets ?? []).map(({ revisionId, percent }) => ({ revisionId, percent })), shadowRevisionId: split?.shadowRevisionId ?? '' };
}
