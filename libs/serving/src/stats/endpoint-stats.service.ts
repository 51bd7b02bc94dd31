import { Injectable } from '@nestjs/common';
import { type Caller, checkRequired, excerpt, NotFoundError } from '@trellis/platform';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { ENDPOINT_KIND } from '../endpoints/endpoint.service';
import { EndpointStatsRecorder } from './endpoint-stats.recorder';
import { EndpointStatsRepository } from './endpoint-stats.repository';
import { BucketedHistograms, statsSpan, type BucketSummary, type SpanRequest, type StatsSpan } from './stats-span';

/** One revision's buckets. */
export interface RevisionBuckets {
  revisionId: string;
  revisionNumber: number;
  buckets: BucketSummary[];
}

/** What GetEndpointStats answers. */
export interface EndpointStats {
  span: StatsSpan;
  total: BucketSummary[];
  revisions: RevisionBuckets[];
}

/** GetEndpointStats: the stored counts of every replica, plus this replica's not yet written, merged into the asked buckets. */
@Injectable()
export class EndpointStatsService {
  constructor(
    private readonly endpoints: EndpointRepository,
    private readonly repository: EndpointStatsRepository,
    private readonly recorder: EndpointStatsRecorder,
  ) {}

  async get(caller: Caller, endpointId: string, request: SpanRequest, now = Date.now()): Promise<EndpointStats> {
    checkRequired(endpointId, 'endpoint_id');
    const endpoint = await this.endpoints.findById(endpointId);
    // One the caller may not read looks missing, as GetEndpoint answers it.
    if (!endpoint || !caller.can('read', ENDPOINT_KIND, { projectId: endpoint.projectId, id: endpoint.id })) {
      throw new NotFoundError(`endpoint ${excerpt(endpointId)} not found`, { reason: 'ENDPOINT_NOT_FOUND' });
    }
    const span = statsSpan(request, now);
    const total = new BucketedHistograms(span);
    const byRevision = new Map<string, BucketedHistograms>();
    const revisionOf = (revisionId: string) => {
      let buckets = byRevision.get(revisionId);
      if (!buckets) byRevision.set(revisionId, (buckets = new BucketedHistograms(span)));
      return buckets;
    };
    for (const count of await this.repository.slots(endpoint.id, span.fromMs, span.toMs, span.widthMs)) {
      revisionOf(count.revisionId).at(count.slot).addBucket(count.latencyBucket, count.requests, count.errors);
      total.at(count.slot).addBucket(count.latencyBucket, count.requests, count.errors);
    }
    for (const counts of this.recorder.unwritten(endpoint.id, span.fromMs, span.toMs)) {
      const slot = Math.floor((counts.minute - span.fromMs) / span.widthMs);
      revisionOf(counts.revisionId).at(slot).merge(counts.histogram);
      total.at(slot).merge(counts.histogram);
    }
    const numbers = new Map((await this.endpoints.revisions([...byRevision.keys()])).map((revision) => [revision.id, revision.number]));
    const revisions = [...byRevision.entries()]
      .map(([revisionId, buckets]) => ({ revisionId, revisionNumber: numbers.get(revisionId) ?? 0, buckets: buckets.summaries() }))
      .sort((a, b) => a.revisionNumber - b.revisionNumber);
    return { span, total: total.summaries(), revisions };
  }
}
