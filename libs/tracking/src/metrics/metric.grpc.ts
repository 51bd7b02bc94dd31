import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, drainedStream, InvalidArgumentError, Requires, type Caller, type DrainableCall } from '@trellis/platform';
import {
  GetMetricHistoryResponseSchema,
  GetSampledMetricHistoryResponseSchema,
  MetricSchema,
  SampledSeriesSchema,
  StreamMetricHistoryResponseSchema,
  type GetMetricHistoryRequest,
  type GetMetricHistoryResponse,
  type GetSampledMetricHistoryRequest,
  type GetSampledMetricHistoryResponse,
  type Metric,
  type StreamMetricHistoryRequest,
  type StreamMetricHistoryResponse,
} from '@trellis/proto';
import { Observable } from 'rxjs';
import { RunAccess } from '../runs/run-access';
import { MetricStore, type MetricPoint } from './metric-store';

const MAX_HISTORY_PAGE = 25_000;
const MAX_SAMPLED_RUNS = 100;
const DEFAULT_MAX_POINTS = 1000;
const MAX_POINTS = 10_000;
const STREAM_CHUNK = 10_000;
/** Bytes of points per message: clients accept 4 MiB by default, and a key may be 250 characters. */
const MESSAGE_BUDGET = 3_000_000;

/** Handlers of `trellis.tracking.v1.MetricService`: check the run, read the series, map to proto. */
@Controller()
export class MetricGrpc {
  constructor(
    private readonly metrics: MetricStore,
    private readonly runs: RunAccess,
  ) {}

  @GrpcMethod('MetricService', 'GetMetricHistory')
  @Requires('read', 'Run')
  async getMetricHistory(request: GetMetricHistoryRequest, metadata: Metadata): Promise<GetMetricHistoryResponse> {
    const caller = callerOf(metadata);
    const key = keyOf(request.key);
    const pageSize = pageSizeOf(request.pageSize, key);
    await this.runs.require(caller, 'read', runIdOf(request.runId));
    const page = await this.metrics.history(request.runId, key, { pageSize, pageToken: request.pageToken });
    return create(GetMetricHistoryResponseSchema, { metrics: page.points.map(toMetricProto), nextPageToken: page.nextPageToken });
  }

  /**
   * Sends the series in chunks, reading the next chunk only once `call` has drained the last one,
   * so a slow client holds at most about one chunk in memory. Stops when the client cancels.
   */
  @GrpcMethod('MetricService', 'StreamMetricHistory')
  @Requires('read', 'Run')
  streamMetricHistory(request: StreamMetricHistoryRequest, metadata: Metadata, call?: DrainableCall): Observable<StreamMetricHistoryResponse> {
    const caller = callerOf(metadata);
    return drainedStream(call, (signal) => this.historyChunks(caller, request, signal));
  }

  private async *historyChunks(caller: Caller, request: StreamMetricHistoryRequest, signal: AbortSignal): AsyncGenerator<StreamMetricHistoryResponse> {
    const key = keyOf(request.key);
    await this.runs.require(caller, 'read', runIdOf(request.runId));
    const chunkSize = Math.min(STREAM_CHUNK, pointsPerMessage(key));
    for await (const points of this.metrics.stream(request.runId, key, chunkSize)) {
      if (signal.aborted) return;
      yield create(StreamMetricHistoryResponseSchema, { metrics: points.map(toMetricProto) });
    }
  }

  @GrpcMethod('MetricService', 'GetSampledMetricHistory')
  @Requires('read', 'Run')
  async getSampledMetricHistory(request: GetSampledMetricHistoryRequest, metadata: Metadata): Promise<GetSampledMetricHistoryResponse> {
    const caller = callerOf(metadata);
    const key = keyOf(request.key);
    const runIds = runIdsOf(request.runIds);
    const maxPoints = maxPointsOf(request.maxPoints);
    const startStep = request.startStep === undefined ? undefined : Number(request.startStep);
    const endStep = request.endStep === undefined ? undefined : Number(request.endStep);
    if (startStep !== undefined && endStep !== undefined && endStep < startStep) {
      throw new InvalidArgumentError('must not be below start_step', 'end_step');
    }
    // One at a time, so the error reported is the first run's in request order.
    for (const runId of runIds) await this.runs.require(caller, 'read', runId);
    const sampled = await Promise.all(runIds.map((runId) => this.metrics.sample(runId, key, { startStep, endStep, maxPoints })));
    const series = runIds.flatMap((runId, i) => {
      const found = sampled[i];
      if (!found) return [];
      return [create(SampledSeriesSchema, { runId, metrics: found.points.map(toMetricProto), totalPoints: BigInt(found.totalPoints) })];
    });
    return create(GetSampledMetricHistoryResponseSchema, { series });
  }
}

/** A stored point as the proto `Metric`. */
export function toMetricProto(point: MetricPoint): Metric {
  return create(MetricSchema, { key: point.key, value: point.value, timestampMs: BigInt(point.timestampMs), step: BigInt(point.step) });
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

function maxPointsOf(requested: number): number {
  if (requested === 0) return DEFAULT_MAX_POINTS;
  if (requested < 2 || requested > MAX_POINTS) throw new InvalidArgumentError(`must be 0 or between 2 and ${MAX_POINTS}`, 'max_points');
  return requested;
}

/** `page_size`, 0 meaning the most; a page of a long key holds fewer points, to fit one message. */
function pageSizeOf(requested: number, key: string): number {
  if (requested < 0 || requested > MAX_HISTORY_PAGE) throw new InvalidArgumentError(`must be between 0 and ${MAX_HISTORY_PAGE}`, 'page_size');
  return Math.min(requested === 0 ? MAX_HISTORY_PAGE : requested, pointsPerMessage(key));
}

function pointsPerMessage(key: string): number {
  // Each point carries its key, a double and two varints, with tags and lengths.
  return Math.floor(MESSAGE_BUDGET / (Buffer.byteLength(key) + 32));
}
