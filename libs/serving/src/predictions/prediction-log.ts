import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BatchPublisher, EVENT_BUS, type EventBus, LOGGER, type Logger, Metrics, SERVICE_CONFIG } from '@trellis/platform';
import { Counter } from 'prom-client';
import type { InferenceObserver, ObservedInference } from '../inference/inference-targets';
import { RevisionMetrics } from '../metrics/revision-metrics';
import { EndpointStatsRecorder } from '../stats/endpoint-stats.recorder';
import type { ServingConfig } from '../serving.config';
import { servingEvents } from '../serving.events';
import { predictionsEvent } from './prediction-event';
import { PredictionPacks, type PackedPrediction } from './prediction-packs';
import { PredictionRepository } from './prediction.repository';
import { TraceWriter } from './trace-writer';

/** The subject of prediction logs, packed. */
export const PREDICTIONS_LOGGED = 'trellis.serving.v1.predictions.logged';
/**
 * About the most tensor bytes of one pack: NATS refuses a message over its max_payload (1 MiB
 * unless the server sets more), and a refused batch is retried, not dropped.
 */
const PACK_MAX_BYTES = 512 * 1024;
/** Logged predictions stored in one transaction (one commit, one disk sync). */
const TRACE_BATCH_ROWS = 1024;
/** How long a logged prediction waits for others before it is stored for tracing: each commit syncs the disk. */
const TRACE_LINGER_MS = 1000;
const HOUR_MS = 3_600_000;

/**
 * Whether a request id falls in a sampled share: the first 4 bytes of its SHA-256 as a fraction
 * of 2^32, below `share`. Deterministic, so every replica (and a spec) agrees; 1 logs all, 0 none.
 */
export function sampled(requestId: string, share: number): boolean {
  if (share >= 1) return true;
  if (share <= 0) return false;
  return createHash('sha256').update(requestId).digest().readUInt32BE(0) / 2 ** 32 < share;
}

/**
 * The inference path's observer: every call that reached a revision's model is recorded in
 * `RevisionMetrics` and counted in `EndpointStatsRecorder` (GetEndpointStats); the sampled share
 * of its endpoint's calls is gathered into packs (one event per pack: bulk logs travel packed, not
 * one message per request) published on `trellis.serving.v1.predictions.logged` through a dropping BatchPublisher (a bounded buffer: when
 * the bus is behind, packs are dropped and their predictions counted in
 * trellis_serving_predictions_dropped_total, and inference never waits), and each prediction of a
 * pack the publisher took is kept for TracePrediction, written in batches off the request's path.
 */
@Injectable()
export class PredictionLog implements InferenceObserver, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly publisher: BatchPublisher<typeof servingEvents.table>;
  private readonly shares = new Map<string, number>();
  private readonly traces: TraceWriter;
  private readonly packs: PredictionPacks;
  private readonly unpublished: Counter;
  private refreshTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly metrics: RevisionMetrics,
    private readonly stats: EndpointStatsRecorder,
    private readonly repository: PredictionRepository,
    @Inject(EVENT_BUS) bus: EventBus,
    kit: Metrics,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // The buffer holds packs: as many as make predictionLogBufferSize predictions when full.
    const packs = Math.max(1, Math.ceil(config.predictionLogBufferSize / config.predictionLogPackSize));
    this.publisher = new BatchPublisher({ bus, events: servingEvents, bufferSize: packs, whenFull: 'drop', metrics: kit, logger });
    this.unpublished = predictionsDropped(kit);
    const untraced = tracesDropped(kit);
    this.traces = new TraceWriter(repository, {
      capacity: config.predictionLogBufferSize,
      batchRows: TRACE_BATCH_ROWS,
      lingerMs: TRACE_LINGER_MS,
      dropped: (rows) => untraced.inc(rows),
      logger,
    });
    this.packs = new PredictionPacks({
      rows: config.predictionLogPackSize,
      lingerMs: config.predictionLogPackLingerMs,
      maxBytes: PACK_MAX_BYTES,
      tensorCap: config.predictionLogMaxTensorBytes,
      ship: (projectId, pack) => this.ship(projectId, pack),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), this.config.predictionLogRefreshMs).unref();
    this.pruneTimer = setInterval(() => void this.prune(), HOUR_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.refreshTimer);
    clearInterval(this.pruneTimer);
    this.packs.close();
    await this.publisher.close();
    await this.traces.flush();
  }

  /** The share of the endpoint's requests logged now, in this replica. */
  shareOf(endpointId: string): number {
    return this.shares.get(endpointId) ?? this.config.predictionLogShare;
  }

  /** Applies a share set through this replica at once (others reread theirs every predictionLogRefreshMs). */
  applyShare(endpointId: string, share: number): void {
    this.shares.set(endpointId, share);
  }

  observe(call: ObservedInference): void {
    const { target, requestId, latencyMs, outputs } = call;
    if (target.revision === undefined) return;
    this.metrics.record({ endpoint: target.name, revisionId: target.revision, latencyMs, error: outputs === undefined });
    if (target.stats) this.metrics.watchRuntime(target.name, target.revision, target.stats);
    const endpoint = target.endpoint;
    if (endpoint) this.stats.record(endpoint.id, target.revision, latencyMs, outputs === undefined);
    if (!endpoint || outputs === undefined || !sampled(requestId, this.shareOf(endpoint.id))) return;
    const row = {
      requestId,
      projectId: endpoint.projectId,
      endpointId: endpoint.id,
      endpointName: target.name,
      revisionId: target.revision,
      answeredAt: Date.now(),
      latencyUs: Math.round(latencyMs * 1000),
    };
    // Its log is built and encoded when its pack's batch is sent, off this request's path.
    this.packs.add({ row, inputs: call.inputs, outputs });
  }

  /** Resolves once every log so far is published (or dropped) and stored for tracing. */
  async flush(): Promise<void> {
    this.packs.drain();
    await this.publisher.flush();
    await this.traces.flush();
  }

  /** Offers a pack to the publisher: its predictions are kept for tracing if it was taken, counted as dropped if not. */
  private ship(projectId: string, pack: PackedPrediction[]): void {
    const cap = this.config.predictionLogMaxTensorBytes;
    const failed = (prediction: PackedPrediction, error: unknown) => {
      this.logger.warn({ err: error, requestId: prediction.row.requestId }, 'building the log of a prediction failed; leaving it out of its pack');
      this.unpublished.inc();
    };
    const taken = this.publisher.offer(PREDICTIONS_LOGGED, () => predictionsEvent(pack, cap, failed), { projectId });
    if (!taken) {
      this.unpublished.inc(pack.length);
      return;
    }
    for (const { row } of pack) this.traces.add(row);
  }

  private async refresh(): Promise<void> {
    try {
      const rows = await this.repository.shares();
      this.shares.clear();
      for (const row of rows) this.shares.set(row.endpointId, row.sampleShare);
    } catch (error) {
      this.logger.warn({ err: error }, 'rereading prediction logging shares failed; keeping the last ones');
    }
  }

  private async prune(): Promise<void> {
    const before = Date.now() - this.config.predictionRetentionDays * 24 * HOUR_MS;
    await this.repository.prune(before).catch((error: unknown) => this.logger.warn({ err: error }, 'deleting expired logged predictions failed'));
  }
}

/** The count of sampled predictions that were not published (trellis_events_dropped_total counts their packs, the events). */
function predictionsDropped(kit: Metrics): Counter {
  const name = 'trellis_serving_predictions_dropped_total';
  return (
    (kit.registry.getSingleMetric(name) as Counter | undefined) ??
    new Counter({ name, help: 'Sampled predictions not published on trellis.serving.v1.predictions.logged: their pack found the publish buffer full (the bus behind) or the service stopping, or their log could not be built.', registers: [kit.registry] })
  );
}

/** The count of logged predictions that could not be stored for tracing (the database behind or failing). */
function tracesDropped(kit: Metrics): Counter {
  const name = 'trellis_serving_prediction_traces_dropped_total';
  return (kit.registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help: 'Logged predictions published but not stored for TracePrediction: the database was behind or failed.', registers: [kit.registry] });
}
