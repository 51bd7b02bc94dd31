export { LATENCY_SAMPLES, percentile, RevisionMetrics, WINDOW_SECONDS, type RevisionSample, type RevisionWindow } from './revision-metrics';
export { ServingMetricsModule } from './serving-metrics.module';
