import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '@trellis/platform';
import { RunInfoSchema, RunSchema, RunStatus, type Metric, type Run, type RunInfo } from '@trellis/proto';
import { lifecycleStageToProto } from '../shared/lifecycle.mapping';
import { toMetricProto } from '../metrics/metric.grpc';
import type { MetricPoint } from '../metrics/metric-store';
import type { RunEntity, RunStatusName } from './run.entity';
import type { RunView } from './run.service';

const STATUSES: Record<RunStatusName, RunStatus> = {
  RUNNING: RunStatus.RUNNING,
  SCHEDULED: RunStatus.SCHEDULED,
  FINISHED: RunStatus.FINISHED,
  FAILED: RunStatus.FAILED,
  KILLED: RunStatus.KILLED,
};

/** The stored status of a proto status; undefined for UNSPECIFIED (keep the current one). */
export function runStatusFromProto(status: RunStatus): RunStatusName | undefined {
  if (status === RunStatus.UNSPECIFIED) return undefined;
  const name = (Object.keys(STATUSES) as RunStatusName[]).find((key) => STATUSES[key] === status);
  if (!name) throw new InvalidArgumentError(`unknown run status ${status}`, 'status');
  return name;
}

export function runInfoToProto(run: RunEntity): RunInfo {
  return create(RunInfoSchema, {
    runId: run.id,
    experimentId: String(run.experimentId),
    projectId: run.projectId,
    runName: run.name,
    userId: run.userId,
    status: STATUSES[run.status],
    startTimeMs: BigInt(run.startTime),
    endTimeMs: BigInt(run.endTime ?? 0),
    artifactUri: run.artifactUri,
    lifecycleStage: lifecycleStageToProto(run.lifecycleStage),
    parentRunId: run.parentRunId ?? '',
  });
}

/** A proto metric as a domain point; int64 fields beyond 2^53 are rejected by validation, not rounded silently. */
export function metricFromProto(metric: Metric | undefined): MetricPoint {
  return {
    key: metric?.key ?? '',
    value: metric?.value ?? 0,
    timestampMs: Number(metric?.timestampMs ?? 0n),
    step: Number(metric?.step ?? 0n),
  };
}

export function runToProto(view: RunView): Run {
  return create(RunSchema, {
    info: runInfoToProto(view.run),
    data: { metrics: view.metrics.map(toMetricProto), params: view.params, tags: view.tags },
    inputs: {
      datasetInputs: view.inputs.map((input) => ({
        tags: input.tags,
        dataset: {
          name: input.name,
          digest: input.digest,
          sourceType: input.sourceType,
          source: input.source,
          schema: input.schema,
          profile: input.profile,
        },
      })),
    },
  });
}
