import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, drainedStream, Requires, type DrainableCall } from '@trellis/platform';
import {
  GetMetricHistoryResponseSchema,
  GetMetricSeriesResponseSchema,
  GetSampledMetricHistoryResponseSchema,
  GetSampledMetricSeriesResponseSchema,
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
import { encodedColumns, encodedSampledSeries } from './metric-columns.encoding';
import { metricsOf, sampleRequestOf } from './metric.mapping';
import { MetricService } from './metric.service';

const STREAM_CHUNK = 10_000;
/** Points per chunk of StreamMetricSeries: at most 28 bytes each, about 1.4 MB a message. */
const COLUMNS_CHUNK = 50_000;
/** Bytes of points per message: clients accept 4 MiB by default, and a key may be 250 characters. */
const MESSAGE_BUDGET = 3_000_000;

/**
 * Handlers of `trellis.tracking.v1.MetricService`: map the request, read through the service, map to
 * proto. Each read has two forms over the same service call: a message per point (the first RPCs)
 * and packed columns (`...Series`), which are written straight to the wire.
 */
@Controller()
export class MetricGrpc {
  constructor(private readonly metrics: MetricService) {}

  @GrpcMethod('MetricService', 'GetMetricHistory')
  @Requires('read', 'Run')
  async getMetricHistory(request: GetMetricHistoryRequest, metadata: Metadata): Promise<GetMetricHistoryResponse> {
    const page = await this.metrics.history(callerOf(metadata), request, pointsPerMessage(request.key));
    return create(GetMetricHistoryResponseSchema, { metrics: metricsOf(request.key, page.points), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('MetricService', 'GetMetricSeries')
  @Requires('read', 'Run')
  async getMetricSeries(request: GetMetricSeriesRequest, metadata: Metadata): Promise<GetMetricSeriesResponse> {
    const page = await this.metrics.history(callerOf(metadata), request);
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
      mapped(this.metrics.stream(caller, request.runId, request.key, Math.min(STREAM_CHUNK, pointsPerMessage(request.key)), signal), (points) =>
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
      mapped(this.metrics.stream(caller, request.runId, request.key, COLUMNS_CHUNK, signal), (points) => {
        const response = create(StreamMetricSeriesResponseSchema);
        response.$unknown = encodedColumns(StreamMetricSeriesResponseSchema, request.key, points);
        return response;
      }),
    );
  }

  @GrpcMethod('MetricService', 'GetSampledMetricHistory')
  @Requires('read', 'Run')
  async getSampledMetricHistory(request: GetSampledMetricHistoryRequest, metadata: Metadata): Promise<GetSampledMetricHistoryResponse> {
    const series = await this.metrics.sampled(callerOf(metadata), sampleRequestOf(request));
    return create(GetSampledMetricHistoryResponseSchema, {
      series: series.map(({ runId, points, totalPoints }) =>
        create(SampledSeriesSchema, { runId, metrics: metricsOf(request.key, points), totalPoints: BigInt(totalPoints) }),
      ),
    });
  }

  @GrpcMethod('MetricService', 'GetSampledMetricSeries')
  @Requires('read', 'Run')
  async getSampledMetricSeries(request: GetSampledMetricSeriesRequest, metadata: Metadata): Promise<GetSampledMetricSeriesResponse> {
    const series = await this.metrics.sampled(callerOf(metadata), sampleRequestOf(request));
    const response = create(GetSampledMetricSeriesResponseSchema);
    response.$unknown = encodedSampledSeries(request.key, series);
    return response;
  }
}

/** Each of `items` as a message. */
async function* mapped<T, M>(items: AsyncIterable<T>, message: (item: T) => M): AsyncGenerator<M> {
  for await (const item of items) yield message(item);
}

/** Points of a long key that fit one message when each point carries the key. */
function pointsPerMessage(key: string): number {
  // Each point carries its key, a double and two varints, with tags and lengths.
  return Math.floor(MESSAGE_BUDGET / (Buffer.byteLength(key) + 32));
}
