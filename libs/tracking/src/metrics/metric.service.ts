import { Injectable } from '@nestjs/common';
import { InvalidArgumentError, type Caller } from '@trellis/platform';
import { RunAccess } from '../runs/run-access';
import type { SeriesColumns } from './metric-sampling';
import { MetricRepository, type MetricHistoryPage, type SampledMetric } from './metric.repository';

const MAX_HISTORY_PAGE = 25_000;
const MAX_SAMPLED_RUNS = 100;
const DEFAULT_MAX_POINTS = 1000;
const MAX_POINTS = 10_000;

/** How a sampled read cuts a series: each bucket's extremes, or MLflow's evenly chosen steps. */
export type SamplingName = 'extremes' | 'even-steps';

/** A page of one run's series, as GetMetricHistory and GetMetricSeries name it. */
export interface HistoryRequest {
  runId: string;
  key: string;
  /** 0 for the largest page. */
  pageSize: number;
  pageToken: string;
}

/** The series of several runs cut to about `maxPoints`, as the sampled reads name them. */
export interface SampleRequest {
  runIds: string[];
  key: string;
  startStep?: number;
  endStep?: number;
  /** 0 for the default. */
  maxPoints: number;
  sampling: SamplingName;
}

/** A sampled series of one run. */
export type RunSample = SampledMetric & { runId: string };

/** Reading metric series: checks the request and that the caller may read the runs, then asks the repository. */
@Injectable()
export class MetricService {
  constructor(
    private readonly metrics: MetricRepository,
    private readonly runs: RunAccess,
  ) {}

  /** A page of at most `largestPage` points (what fits one message), whatever `page_size` asks. */
  async history(caller: Caller, request: HistoryRequest, largestPage = MAX_HISTORY_PAGE): Promise<MetricHistoryPage> {
    const key = keyOf(request.key);
    if (request.pageSize < 0 || request.pageSize > MAX_HISTORY_PAGE) throw new InvalidArgumentError(`must be between 0 and ${MAX_HISTORY_PAGE}`, 'page_size');
    const pageSize = Math.min(request.pageSize || MAX_HISTORY_PAGE, largestPage);
    await this.runs.require(caller, 'read', runIdOf(request.runId));
    return this.metrics.history(request.runId, key, { pageSize, pageToken: request.pageToken });
  }

  /** The whole series in chunks of `chunkSize` points; stops when `signal` aborts. */
  async *stream(caller: Caller, runId: string, key: string, chunkSize: number, signal: AbortSignal): AsyncGenerator<SeriesColumns> {
    const checkedKey = keyOf(key);
    await this.runs.require(caller, 'read', runIdOf(runId));
    for await (const points of this.metrics.stream(runId, checkedKey, chunkSize)) {
      if (signal.aborted) return;
      yield points;
    }
  }

  /** The sampled series of each run that has the metric, in the order of `run_ids`. */
  async sampled(caller: Caller, request: SampleRequest): Promise<RunSample[]> {
    const key = keyOf(request.key);
    const runIds = runIdsOf(request.runIds);
    const evenSteps = request.sampling === 'even-steps';
    const maxPoints = maxPointsOf(request.maxPoints, evenSteps ? 1 : 2);
    const { startStep, endStep } = request;
    if (startStep !== undefined && endStep !== undefined && endStep < startStep) {
      throw new InvalidArgumentError('must not be below start_step', 'end_step');
    }
    // One at a time, so the error reported is the first run's in request order.
    for (const runId of runIds) await this.runs.require(caller, 'read', runId);
    const range = { startStep, endStep, maxPoints };
    if (evenSteps) {
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
