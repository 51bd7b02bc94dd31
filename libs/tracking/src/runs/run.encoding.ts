import type { UnknownField } from '@bufbuild/protobuf';
import { LifecycleStage, RunStatus } from '@trellis/proto';
import type { KeyValue } from '../validation/log-batch.validation';
import type { RunView } from './run.service';
import { WireWriter } from './wire-writer';

const STATUSES: Record<string, RunStatus> = {
  RUNNING: RunStatus.RUNNING,
  SCHEDULED: RunStatus.SCHEDULED,
  FINISHED: RunStatus.FINISHED,
  FAILED: RunStatus.FAILED,
  KILLED: RunStatus.KILLED,
};

/**
 * Runs written straight to protobuf's wire format as the repeated field `field` (a `Run` each) of
 * the message they go out in, carried as its one unknown field, which protobuf-es copies as it is
 * after the field's first tag. A page of 1000 runs is some 35,000 small messages, on which
 * protobuf-es' reflective encoding spent about 110 ms. The bytes decode to the same runs as
 * protobuf-es writes them (a spec compares).
 */
export function encodedRuns(views: readonly RunView[], field: number): UnknownField[] {
  if (views.length === 0) return [];
  const writer = new WireWriter();
  for (const view of views) {
    writer.begin(field);
    writeRun(writer, view);
    writer.end();
  }
  return [writer.unknownField(field)];
}

function writeRun(w: WireWriter, { run, params, tags, metrics, inputs }: RunView): void {
  w.begin(1)
    .string(1, run.id)
    .string(2, String(run.experimentId))
    .string(3, run.projectId)
    .string(4, run.name)
    .string(5, run.userId)
    .integer(6, STATUSES[run.status] ?? RunStatus.UNSPECIFIED)
    .integer(7, run.startTime)
    .integer(8, run.endTime ?? 0)
    .string(9, run.artifactUri)
    .integer(10, run.lifecycleStage === 'deleted' ? LifecycleStage.DELETED : LifecycleStage.ACTIVE)
    .string(11, run.parentRunId ?? '')
    .end();
  w.begin(2);
  for (const metric of metrics) {
    w.begin(1).string(1, metric.key).double(2, metric.value).integer(3, metric.timestampMs).integer(4, metric.step).end();
  }
  pairs(w, 2, params);
  pairs(w, 3, tags);
  w.end();
  w.begin(3);
  for (const input of inputs) {
    w.begin(1);
    pairs(w, 1, input.tags);
    w.begin(2)
      .string(1, input.name)
      .string(2, input.digest)
      .string(3, input.sourceType)
      .string(4, input.source)
      .string(5, input.schema)
      .string(6, input.profile)
      .end();
    w.end();
  }
  w.end();
}

function pairs(w: WireWriter, field: number, entries: readonly KeyValue[]): void {
  for (const { key, value } of entries) w.begin(field).string(1, key).string(2, value).end();
}
