import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, drainedStream, InvalidArgumentError, Requires, type Caller, type DrainableCall } from '@trellis/platform';
import {
  GetMetricHistoryResponseSchema,
  GetMetricSeriesResponseSchema,
  GetSampledMetricHistoryResponseSchema,
  GetSampledMetricSeriesResponseSchema,
  MetricSampling,
  SampledSeriesSchema,
  StreamMetricHistoryResponseSchema,
  StreamMetricSeriesResponseSchema,
  type GetMetricHistoryRequest,
  type GetMetricHistoryResponse,
  type GetMetricSeriesRequest,
  type GetMetricSeriesResponse,
  type GetSampledMetricHistoryRequest,
  type GetSampledMetricHistoryResponse,
  type GetSampledMetricSeriesRequest,
  type GetSampledMetricSeriesResponse,
  type StreamMetricHistoryRequest,
  type StreamMetricHistoryResponse,
  type StreamMetricSeriesRequest,
  type StreamMetricSeriesResponse,
} from '@trellis/proto';
import { Observable } from 'rxjs';
import { RunAccess } from '../runs/run-access';
import { encodedColumns, encodedSampledSeries, type RunSeries } from './metric-columns.encoding';
import type { SeriesColumns } from './metric-sampling';
import { metricsOf } from './metric.mapping';
import { MetricStore, type MetricHistoryPage } from './metric-store';

const MAX_HISTORY_PAGE = 25_000;
const MAX_SAMPLED_RUNS = 100;
const DEFAULT_MAX_POINTS = 1000;
const MAX_POINTS = 10_000;
const STREAM_CHUNK = 10_000;
/** Points per chunk of StreamMetricSeries: at most 28 bytes each, about 1.4 MB a message. */
const COLUMNS_CHUNK = 50_000;
/** Bytes of points per message: clients accept 4 MiB by default, and a key may be 250 characters. */
const MESSAGE_BUDGET = 3_000_000;

/** The fields a paged read names, the same in both forms. */
type HistoryRequest = Pick<GetMetricHistoryRequest, 'runId' | 'key' | 'pageSize' | 'pageToken'>;
/** The fields a sampled read names, the same in both forms. */
type SampledRequest = Pick<GetSampledMetricHistoryRequest, 'runIds' | 'key' | 'startStep' | 'endStep' | 'maxPoints'> & { sampling?: MetricSampling };

/**
 * Handlers of `trellis.tracking.v1.MetricService`: check the run, read the series, map to proto.
 * Each read has two forms over the same store call: a message per point (the first RPCs) and
 * packed columns (`...Series`), which are written straight to the wire.
 */
@Controller()
export class MetricGrpc {
  constructor(
    private readonly metrics: MetricStore,
    private readonly runs: RunAccess,
  ) {}

  @GrpcMethod('MetricService', 'GetMetricHistory')
  @Requires('read', 'Run')
  async getMetricHistory(request: GetMetricHistoryRequest, metadata: Metadata): Promise<GetMetricHistoryResponse> {
    const page = await this.historyPage(callerOf(metadata), request, pointsPerMessage(request.key));
    return create(GetMetricHistoryResponseSchema, { metrics: metricsOf(request.key, page.points), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('MetricService', 'GetMetricSeries')
  @Requires('read', 'Run')
  async getMetricSeries(request: GetMetricSeriesRequest, metadata: Metadata): Promise<GetMetricSeriesResponse> {
    const page = await this.historyPage(callerOf(metadata), request, MAX_HISTORY_PAGE);
    const response = create(GetMetricSeriesResponseSchema, { nextPageToken: page.nextPageToken });
    response.$unknown = encodedColumns(GetMetricSeriesResponseSchema, request.key, page.points);
    return response;
  }

  /**
   * Sends the series in chunks, reading the next chunk only once `call` has drained the last one,
   * so a slow client holds at most about one chunk in memory. Stops when the client cancels.
   */
  @GrpcMethod('MetricService', 'StreamMetricHistory')
  @Requires('read', 'Run')
  streamMetricHistory(request: StreamMetricHistoryRequest, metadata: Metadata, call?: DrainableCall): Observable<StreamMetricHistoryResponse> {
    const caller = callerOf(metadata);
    return drainedStream(call, (signal) =>
      this.chunks(caller, request, Math.min(STREAM_CHUNK, pointsPerMessage(request.key)), signal, (points) =>
        create(StreamMetricHistoryResponseSchema, { metrics: metricsOf(request.key, points) }),
      ),
    );
  }

  /** StreamMetricHistory, each chunk as packed columns. */
  @GrpcMethod('MetricService', 'StreamMetricSeries')
  @Requires('read', 'Run')
  streamMetricSeries(request: StreamMetricSeriesRequest, metadata: Metadata, call?: DrainableCall): Observable<StreamMetricSeriesResponse> {
    const caller = callerOf(metadata);
    return drainedStream(call, (signal) =>
      this.chunks(caller, request, COLUMNS_CHUNK, signal, (points) => {
        const response = create(StreamMetricSeriesResponseSchema);
        response.$unknown = encodedColumns(StreamMetricSeriesResponseSchema, request.key, points);
        return response;
      }),
    );
  }

  @GrpcMethod('MetricService', 'GetSampledMetricHistory')
  @Requires('read', 'Run')
  async getSampledMetricHistory(request: GetSampledMetricHistoryRequest, metadata: Metadata): Promise<GetSampledMetricHistoryResponse> {
    const series = await this.sampled(callerOf(metadata), request);
    return create(GetSampledMetricHistoryResponseSchema, {
      series: series.map(({ runId, points, totalPoints }) =>
        create(SampledSeriesSchema, { runId, metrics: metricsOf(request.key, points), totalPoints: BigInt(totalPoints) }),
      ),
    });
  }

  @GrpcMethod('MetricService', 'GetSampledMetricSeries')
  @Requires('read', 'Run')
  async getSampledMetricSeries(request: GetSampledMetricSeriesRequest, metadata: Metadata): Promise<GetSampledMetricSeriesResponse> {
    const series = await this.sampled(callerOf(metadata), request);
    const response = create(GetSampledMetricSeriesResponseSchema);
    response.$unknown = encodedSampledSeries(request.key, series);
    return response;
  }

  /** A page of at most `largestPage` points (what fits one message), whatever `page_size` asks. */
  private async historyPage(caller: Caller, request: HistoryRequest, largestPage: number): Promise<MetricHistoryPage> {
    const key = keyOf(request.key);
    if (request.pageSize < 0 || request.pageSize > MAX_HISTORY_PAGE) throw new InvalidArgumentError(`must be between 0 and ${MAX_HISTORY_PAGE}`, 'page_size');
    const pageSize = Math.min(request.pageSize || MAX_HISTORY_PAGE, largestPage);
    await this.runs.require(caller, 'read', runIdOf(request.runId));
    return this.metrics.history(request.runId, key, { pageSize, pageToken: request.pageToken });
  }

  private async *chunks<T>(
    caller: Caller,
    request: StreamMetricHistoryRequest | StreamMetricSeriesRequest,
    chunkSize: number,
    signal: AbortSignal,
    message: (points: SeriesColumns) => T,
  ): AsyncGenerator<T> {
    const key = keyOf(request.key);
    await this.runs.require(caller, 'read', runIdOf(request.runId));
    for await (const points of this.metrics.stream(request.runId, key, chunkSize)) {
      if (signal.aborted) return;
      yield message(points);
    }
  }

  /** The sampled series of each run that has the metric, in the order of `run_ids`. */
  private async sampled(caller: Caller, request: SampledRequest): Promise<RunSeries[]> {
    const key = keyOf(request.key);
    const runIds = runIdsOf(request.runIds);
    const sampling = request.sampling ?? MetricSampling.UNSPECIFIED;
    if (!(sampling in MetricSampling)) throw new InvalidArgumentError(`${sampling} is not a MetricSampling`, 'sampling');
    const maxPoints = maxPointsOf(request.maxPoints, sampling === MetricSampling.EVEN_STEPS ? 1 : 2);
    const startStep = request.startStep === undefined ? undefined : Number(request.startStep);
    const endStep = request.endStep === undefined ? undefined : Number(request.endStep);
    if (startStep !== undefined && endStep !== undefined && endStep < startStep) {
      throw new InvalidArgumentError('must not be below start_step', 'end_step');
    }
    // One at a time, so the error reported is the first run's in request order.
    for (const runId of runIds) await this.runs.require(caller, 'read', runId);
    const range = { startStep, endStep, maxPoints };
    if (sampling === MetricSampling.EVEN_STEPS) {
      const sampled = await this.metrics.sampleSteps(runIds, key, range);
      return runIds.flatMap((runId) => {
        const found = sampled.get(runId);
        return found ? [{ runId, ...found }] : [];
      });
    }
    const sampled = await Promise.all(runIds.map((runId) => this.metrics.sample(runId, key, range)));
    return runIds.flatMap((runId, i) => {
      const found = sampled[i];
      return found ? [{ runId, ...found }] : [];
    });
  }
}

function keyOf(key: string): string {
  if (key.length === 0 || key.length > 250) throw new InvalidArgumentError('must be 1 to 250 characters', 'key');
  return key;
}

function runIdOf(runId: string, field = 'run_id'): string {
  if (runId.length === 0) throw new InvalidArgumentError('is required', field);
  return runId;
}

function runIdsOf(runIds: string[]): string[] {
  if (runIds.length === 0 || runIds.length > MAX_SAMPLED_RUNS) {
    throw new InvalidArgumentError(`must name 1 to ${MAX_SAMPLED_RUNS} runs`, 'run_ids');
  }
  return [...new Set(runIds.map((runId) => runIdOf(runId, 'run_ids')))];
}

function maxPointsOf(requested: number, least: number): number {
  if (requested === 0) return DEFAULT_MAX_POINTS;
  if (requested < least || requested > MAX_POINTS) throw new InvalidArgumentError(`must be 0 or between ${least} and ${MAX_POINTS}`, 'max_points');
  return requested;
}

/** Points of a long key that fit one message when each point carries the key. */
function pointsPerMessage(key: string): number {
  // Each point carries its key, a double and two varints, with tags and lengths.
  return Math.floor(MESSAGE_BUDGET / (Buffer.byteLength(key) + 32));
}
