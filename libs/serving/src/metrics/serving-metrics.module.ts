import { Module } from '@nestjs/common';
import { RevisionMetrics } from './revision-metrics';

/** The serving service's live per-revision statistics: one `RevisionMetrics` per process, for the inference path, rollout guards and `/metrics`. */
@Module({ providers: [RevisionMetrics], exports: [RevisionMetrics] })
export class ServingMetricsModule {}
