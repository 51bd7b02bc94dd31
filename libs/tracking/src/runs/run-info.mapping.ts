import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError } from '@trellis/platform';
import { RunInfoSchema, RunStatus, type RunInfo } from '@trellis/proto';
import { lifecycleStageToProto } from '../common/lifecycle.mapping';
import type { RunEntity, RunStatusName } from './run.entity';

const STATUSES: Record<RunStatusName, RunStatus> = {
  RUNNING: RunStatus.RUNNING,
  SCHEDULED: RunStatus.SCHEDULED,
  FINISHED: RunStatus.FINISHED,
  FAILED: RunStatus.FAILED,
  KILLED: RunStatus.KILLED,
};

/** The stored status of a proto status; undefined for UNSPECIFIED, which no run holds. */
export function runStatusFromProto(status: RunStatus): RunStatusName | undefined {
  if (status === RunStatus.UNSPECIFIED) return undefined;
  const name = (Object.keys(STATUSES) as RunStatusName[]).find((key) => STATUSES[key] === status);
  if (!name) throw new InvalidArgumentError(`unknown run status ${status}`, 'status');
  return name;
}

/** A stored run as the proto `RunInfo`, as responses and the run.created and run.finished events carry it. */
export function runInfoToProto(run: RunEntity): RunInfo {
  return create(RunInfoSchema, {
    id: run.id,
    experimentId: String(run.experimentId),
    projectId: run.projectId,
    runName: run.name,
    userId: run.userId,
    status: STATUSES[run.status],
    startTime: timestampFromMs(run.startTime),
    endTime: run.endTime === null ? undefined : timestampFromMs(run.endTime),
    artifactUri: run.artifactUri,
    lifecycleStage: lifecycleStageToProto(run.lifecycleStage),
    parentRunId: run.parentRunId ?? '',
    artifactsEncrypted: !!run.artifactKms,
  });
}
