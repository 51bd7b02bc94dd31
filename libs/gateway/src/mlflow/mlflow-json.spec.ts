import { create } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { FileInfoSchema, LifecycleStage, RunInfoSchema, RunStatus, ViewType } from '@trellis/proto';
import { doubleJson, fileInfoJson, runInfoJson, runStatusOf, timestampOfMillis, viewTypeOf } from './mlflow-json';

describe("MLflow's JSON", () => {
  const info = create(RunInfoSchema, {
    id: 'a'.repeat(32),
    experimentId: '7',
    runName: 'baseline',
    userId: 'alice',
    status: RunStatus.RUNNING,
    startTime: timestampFromMs(1_700_000_000_000),
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
    const ended = runInfoJson({ ...info, status: RunStatus.KILLED, endTime: timestampFromMs(1_700_000_000_500), lifecycleStage: LifecycleStage.DELETED });
    expect(ended).toMatchObject({ status: 'KILLED', end_time: 1_700_000_000_500, lifecycle_stage: 'deleted' });
  });

  it("reads MLflow's epoch milliseconds as Timestamps, 0 as none, and writes them back exactly", () => {
    expect(timestampOfMillis(undefined)).toBeUndefined();
    expect(timestampOfMillis(0n)).toBeUndefined();
    for (const ms of [1n, 999n, 1_700_000_000_123n, 2n ** 53n - 1n, -1n, -1000n, -1001n]) {
      const time = timestampOfMillis(ms);
      expect(time?.nanos).toBeGreaterThanOrEqual(0);
      expect(time?.nanos).toBeLessThan(1_000_000_000);
      expect(BigInt(timestampMs(time!))).toBe(ms);
    }
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
