import { MetricRollupTimestamps1767700000000 } from '../migrations/1767700000000-metric-rollup-timestamps';
import { CreateMetricTables1767500001000 } from './create-metric-tables.migration';
import { MetricPointEntity, MetricRollupEntity, MetricSeriesEntity } from './metric.entity';

export { MetricGrpc, toMetricProto } from './metric.grpc';
export { MetricStore, type MetricHistoryPage, type MetricPoint, type SampledMetric, type SampleRange } from './metric-store';
export type { SeriesColumns } from './metric-sampling';

/** Entities of the metrics feature, for tracking's DataSource. */
export const METRIC_ENTITIES = [MetricSeriesEntity, MetricPointEntity, MetricRollupEntity];

/** Migrations of the metrics feature, in order; they follow CreateTrackingTables1767500000000 (runs). */
export const METRIC_MIGRATIONS = [CreateMetricTables1767500001000, MetricRollupTimestamps1767700000000];
