import { dashboard, type Row } from './dashboard';

const RATE = '[$__rate_interval]';
const rate = (metric: string, by: string, filter = '') => `sum by (${by}) (rate(${metric}${filter}${RATE}))`;
const quantile = (q: number, histogram: string, by: string) => `histogram_quantile(${q}, sum by (le, ${by}) (rate(${histogram}_bucket${RATE})))`;

/**
 * What every process exports (libs/platform/src/ops/metrics.ts, the event backlogs of
 * libs/platform/src/events and prom-client's defaults): gRPC, the gateway's HTTP, events, the
 * Node.js runtime; and compute's queues, which an operator watches beside them during a rollout.
 */
const overview: Row[] = [
  {
    title: 'gRPC, by service',
    charts: [
      { title: 'Calls', description: 'gRPC calls completed per second, by gRPC service.', unit: 'reqps', queries: [{ expr: rate('grpc_server_handled_total', 'grpc_service'), legend: '{{grpc_service}}' }] },
      {
        title: 'Failed calls',
        description: 'Share of gRPC calls answered with a code other than OK, by service.',
        unit: 'percentunit',
        queries: [{ expr: `${rate('grpc_server_handled_total', 'grpc_service', '{grpc_code!="OK"}')} / ${rate('grpc_server_handled_total', 'grpc_service')}`, legend: '{{grpc_service}}' }],
      },
      {
        title: 'Latency, 95th percentile',
        description: 'Time from receiving a gRPC call to answering it, by service.',
        unit: 's',
        queries: [{ expr: quantile(0.95, 'grpc_server_handling_seconds', 'grpc_service'), legend: '{{grpc_service}}' }],
      },
    ],
  },
  {
    title: 'gRPC, by method',
    charts: [
      { title: 'Calls by code', description: 'gRPC calls per second by method and status code.', unit: 'reqps', stacked: true, queries: [{ expr: rate('grpc_server_handled_total', 'grpc_method, grpc_code'), legend: '{{grpc_method}} {{grpc_code}}' }] },
      {
        title: 'Slowest methods, 99th percentile',
        description: 'The ten methods with the slowest 99th percentile.',
        unit: 's',
        queries: [{ expr: `topk(10, ${quantile(0.99, 'grpc_server_handling_seconds', 'grpc_service, grpc_method')})`, legend: '{{grpc_service}}/{{grpc_method}}' }],
      },
    ],
  },
  {
    title: 'Gateway (HTTP)',
    charts: [
      { title: 'Requests by status', description: 'HTTP requests the gateway answered per second, by status.', unit: 'reqps', stacked: true, queries: [{ expr: rate('trellis_http_requests_total', 'status'), legend: '{{status}}' }] },
      {
        title: 'Server errors',
        description: 'Share of HTTP requests answered 5xx, by route pattern.',
        unit: 'percentunit',
        queries: [{ expr: `${rate('trellis_http_requests_total', 'route', '{status=~"5.."}')} / ${rate('trellis_http_requests_total', 'route')}`, legend: '{{route}}' }],
      },
      {
        title: 'Latency, 95th percentile',
        description: 'Time to the last byte of the response, by route pattern.',
        unit: 's',
        queries: [{ expr: quantile(0.95, 'trellis_http_request_duration_seconds', 'route'), legend: '{{route}}' }],
      },
    ],
  },
  {
    title: 'Events and audit',
    charts: [
      {
        title: 'Events dropped',
        description: 'Events of lossy high-volume streams (batch publishing, no outbox) dropped before the event bus took them, by subject. Outbox events are never dropped.',
        unit: 'short',
        queries: [{ expr: rate('trellis_events_dropped_total', 'subject'), legend: '{{subject}}' }],
      },
      {
        title: 'Denied calls not audited',
        description: 'Denied calls counted instead of written to the audit log, because their client address exceeded the audit rate for denials.',
        unit: 'short',
        queries: [{ expr: 'sum(rate(trellis_denied_calls_unaudited_total[$__rate_interval]))', legend: 'denied, unaudited' }],
      },
    ],
  },
  {
    title: 'Event backlog',
    charts: [
      {
        title: 'Outbox backlog',
        description: "Events waiting in each service's outbox for the event bus to take them (every replica reports its service's, hence max; counted up to 100000). Grows while NATS is out of reach or a relay falls behind, and should fall back to 0.",
        unit: 'short',
        queries: [{ expr: 'max by (service) (trellis_outbox_pending_events)', legend: '{{service}}' }],
      },
      {
        title: 'Oldest event waiting',
        description: "Age of the first event waiting in each service's outbox: how late its subscribers hear of its changes.",
        unit: 's',
        queries: [{ expr: 'max by (service) (trellis_outbox_oldest_pending_seconds)', legend: '{{service}}' }],
      },
      {
        title: 'Consumer backlog',
        description: 'Events each durable consumer (named after its service) has yet to handle: not yet delivered, or not yet acknowledged. Every replica reports its consumer, hence max. None in standalone, where waiting events stay in the outboxes.',
        unit: 'short',
        queries: [{ expr: 'max by (consumer) (trellis_event_consumer_pending)', legend: '{{consumer}}' }],
      },
    ],
  },
  {
    title: 'Compute queues',
    charts: [
      { title: 'Queued jobs', description: 'Jobs waiting on each compute queue for admission (quota, a cluster that fits).', unit: 'short', queries: [{ expr: 'max by (queue) (trellis_compute_queue_jobs{state="queued"})', legend: '{{queue}}' }] },
      {
        title: 'Jobs holding quota',
        description: 'Jobs admitted, starting or running on each compute queue.',
        unit: 'short',
        stacked: true,
        queries: [{ expr: 'max by (queue, state) (trellis_compute_queue_jobs{state!="queued"})', legend: '{{queue}} {{state}}' }],
      },
    ],
  },
  {
    title: 'Processes',
    charts: [
      { title: 'CPU', description: 'CPU seconds per second, by pod.', unit: 'short', queries: [{ expr: rate('process_cpu_seconds_total', 'instance'), legend: '{{instance}}' }] },
      { title: 'Memory', description: 'Resident memory, by pod: compare with its memory limit.', unit: 'bytes', queries: [{ expr: 'sum by (instance) (process_resident_memory_bytes)', legend: '{{instance}}' }] },
      { title: 'Event loop lag, 99th percentile', description: "How late Node's event loop runs callbacks, by pod: high when a process is CPU-bound.", unit: 's', queries: [{ expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds)', legend: '{{instance}}' }] },
    ],
  },
];

/** Serving's own metrics (libs/serving/src/metrics, predictions, revisions). */
const serving: Row[] = [
  {
    title: 'Inference',
    charts: [
      { title: 'Requests by outcome', description: "Inference requests that reached a revision's model per second, by endpoint and outcome.", unit: 'reqps', stacked: true, queries: [{ expr: rate('trellis_serving_requests_total', 'endpoint, outcome'), legend: '{{endpoint}} {{outcome}}' }] },
      {
        title: 'Latency by revision',
        description: "Time a revision's model took to answer (batch queue included): 50th and 99th percentiles.",
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'trellis_serving_request_duration_seconds', 'endpoint, revision'), legend: 'p50 {{endpoint}} {{revision}}' },
          { expr: quantile(0.99, 'trellis_serving_request_duration_seconds', 'endpoint, revision'), legend: 'p99 {{endpoint}} {{revision}}' },
        ],
      },
      { title: 'Shadow requests', description: "Copies of requests answered by endpoints' shadow revisions per second, by outcome.", unit: 'reqps', queries: [{ expr: rate('trellis_serving_shadow_requests_total', 'endpoint, revision, outcome'), legend: '{{endpoint}} {{revision}} {{outcome}}' }] },
    ],
  },
  {
    title: 'Batching',
    charts: [
      {
        title: 'Mean queue wait',
        description: "Time requests waited in a revision's batch queue before their run, on average over the interval.",
        unit: 's',
        queries: [{ expr: `sum by (endpoint, revision) (rate(trellis_serving_queue_delay_seconds_total${RATE})) / sum by (endpoint, revision) (rate(trellis_serving_model_requests${RATE}))`, legend: '{{endpoint}} {{revision}}' }],
      },
      {
        title: 'Batch sizes',
        description: 'Model runs per second with at most `le` rows (dynamic batching).',
        unit: 'short',
        queries: [{ expr: `sum by (le) (rate(trellis_serving_batch_size_runs${RATE}))`, legend: '≤ {{le}} rows' }],
      },
    ],
  },
  {
    title: 'Prediction logs',
    charts: [
      { title: 'Predictions not published', description: 'Sampled predictions dropped before the event bus took them: the bus behind, or the service stopping.', unit: 'short', queries: [{ expr: 'sum(rate(trellis_serving_predictions_dropped_total[$__rate_interval]))', legend: 'dropped' }] },
      { title: 'Predictions not traceable', description: 'Logged predictions published but not stored for TracePrediction: the database was behind or failed.', unit: 'short', queries: [{ expr: 'sum(rate(trellis_serving_prediction_traces_dropped_total[$__rate_interval]))', legend: 'not stored' }] },
    ],
  },
];

/** Monitoring's own metrics (libs/monitoring/src/windows, alerts, performance). */
const monitoring: Row[] = [
  {
    title: 'Rows',
    charts: [
      {
        title: 'Rows per monitor',
        description: 'Logged prediction rows consumed into windows, skipped while a reference was profiled, and left out as late.',
        unit: 'short',
        queries: [
          { expr: rate('trellis_monitoring_rows_ingested_total', 'project, monitor'), legend: 'ingested {{project}}/{{monitor}}' },
          { expr: rate('trellis_monitoring_rows_skipped_total', 'project, monitor'), legend: 'skipped {{project}}/{{monitor}}' },
          { expr: rate('trellis_monitoring_rows_late_total', 'project, monitor'), legend: 'late {{project}}/{{monitor}}' },
        ],
      },
      { title: 'Windows scored', description: 'Windows each monitor scored per second.', unit: 'short', queries: [{ expr: rate('trellis_monitoring_windows_closed_total', 'project, monitor'), legend: '{{project}}/{{monitor}}' }] },
    ],
  },
  {
    title: 'Drift',
    charts: [
      { title: 'Drifted share', description: "The share of drifted columns in each monitor's last window.", unit: 'percentunit', queries: [{ expr: 'max by (project, monitor) (trellis_monitoring_drift_share)', legend: '{{project}}/{{monitor}}' }] },
      { title: 'Dataset drift', description: "1 when a monitor's last window was dataset drift.", unit: 'short', queries: [{ expr: 'max by (project, monitor) (trellis_monitoring_dataset_drift)', legend: '{{project}}/{{monitor}}' }] },
      {
        title: 'Drifted columns',
        description: "Columns that drifted in their monitor's last window, with their share of rows without a value.",
        unit: 'short',
        queries: [
          { expr: 'max by (project, monitor, column) (trellis_monitoring_column_drifted) == 1', legend: 'drifted {{monitor}}.{{column}}' },
          { expr: 'max by (project, monitor, column) (trellis_monitoring_column_missing_rate) > 0', legend: 'missing {{monitor}}.{{column}}' },
        ],
      },
    ],
  },
  {
    title: 'Columns and performance',
    charts: [
      { title: 'Column scores', description: "Each column's p-value or distance in its monitor's last window.", unit: 'short', queries: [{ expr: 'max by (project, monitor, column) (trellis_monitoring_column_value)', legend: '{{monitor}}.{{column}}' }] },
      { title: 'Performance', description: "Each monitor's performance in its last window with labelled rows, by metric.", unit: 'short', queries: [{ expr: 'max by (project, monitor, metric) (trellis_monitoring_performance)', legend: '{{monitor}} {{metric}}' }] },
    ],
  },
  {
    title: 'Alerts',
    charts: [
      { title: 'Open alerts', description: 'Alerts not resolved, by state (pending, firing).', unit: 'short', stacked: true, queries: [{ expr: 'max by (state) (trellis_monitoring_alerts)', legend: '{{state}}' }] },
      { title: 'Deliveries', description: 'Tries to deliver alert changes to notifiers, by outcome (delivered, retried, failed: given up).', unit: 'short', stacked: true, queries: [{ expr: rate('trellis_monitoring_alert_deliveries_total', 'outcome'), legend: '{{outcome}}' }] },
    ],
  },
];

/** Every dashboard, by file name under deploy/grafana. */
export const DASHBOARDS: ReadonlyMap<string, Record<string, unknown>> = new Map([
  ['trellis-overview.json', dashboard('trellis-overview', 'Trellis: overview', 'Every Trellis process: gRPC calls, the gateway, events and their backlogs, compute queues and the Node.js runtime.', overview)],
  ['trellis-serving.json', dashboard('trellis-serving', 'Trellis: serving', 'Inference through endpoints: requests, latency, batching and prediction logs.', serving)],
  ['trellis-monitoring.json', dashboard('trellis-monitoring', 'Trellis: monitoring', 'Monitors: rows, windows, drift, performance and alerts.', monitoring)],
]);
