import { create } from '@bufbuild/protobuf';
import { FileInfoSchema, LifecycleStage, RunInfoSchema, RunStatus, ViewType } from '@trellis/proto';
import { doubleJson, fileInfoJson, runInfoJson, runStatusOf, viewTypeOf } from './mlflow-json';

describe("MLflow's JSON", () => {
  const info = create(RunInfoSchema, {
    runId: 'a'.repeat(32),
    experimentId: '7',
    runName: 'baseline',
    userId: 'alice',
    status: RunStatus.RUNNING,
    startTimeMs: 1_700_000_000_000n,
    artifactUri: `mlflow-artifacts:/7/${'a'.repeat(32)}/artifacts`,
    lifecycleStage: LifecycleStage.ACTIVE,
  });

  it('writes RunInfo with run_uuid, int64 as numbers, the status by name, and no end_time while the run runs', () => {
    expect(runInfoJson(info)).toEqual({
      run_id: 'a'.repeat(32),
      run_uuid: 'a'.repeat(32),
      run_name: 'baseline',
      experiment_id: '7',
      user_id: 'alice',
      status: 'RUNNING',
      start_time: 1_700_000_000_000,
      artifact_uri: `mlflow-artifacts:/7/${'a'.repeat(32)}/artifacts`,
      lifecycle_stage: 'active',
    });
    const ended = runInfoJson({ ...info, status: RunStatus.KILLED, endTimeMs: 1_700_000_000_500n, lifecycleStage: LifecycleStage.DELETED });
    expect(ended).toMatchObject({ status: 'KILLED', end_time: 1_700_000_000_500, lifecycle_stage: 'deleted' });
  });

  it('writes doubles JSON has no number for as protobuf JSON does', () => {
    expect([doubleJson(NaN), doubleJson(Infinity), doubleJson(-Infinity), doubleJson(-0.5)]).toEqual(['NaN', 'Infinity', '-Infinity', -0.5]);
  });

  it('reads enums by MLflow name or number, unset as unspecified, and refuses others listing the names', () => {
    expect(runStatusOf('FINISHED', 'status')).toBe(RunStatus.FINISHED);
    expect(runStatusOf(4, 'status')).toBe(RunStatus.FAILED);
    expect(runStatusOf(undefined, 'status')).toBe(RunStatus.UNSPECIFIED);
    expect(viewTypeOf('ALL', 'run_view_type')).toBe(ViewType.ALL);
    expect(viewTypeOf('2', 'view_type')).toBe(ViewType.DELETED_ONLY);
    expect(() => runStatusOf('DONE', 'status')).toThrow("parameter 'status' supplied: expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED");
  });

  it('writes files with their size and directories without one', () => {
    expect(fileInfoJson(create(FileInfoSchema, { path: 'model/weights.bin', sizeBytes: 42n }))).toEqual({ path: 'model/weights.bin', is_dir: false, file_size: 42 });
    expect(fileInfoJson(create(FileInfoSchema, { path: 'model', isDir: true }), 'model')).toEqual({ path: 'model', is_dir: true });
  });
});
