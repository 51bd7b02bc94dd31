import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { SearchRunsResponseSchema } from '@trellis/proto';
import { RunEntity, RunInputEntity } from './run.entity';
import { encodedRuns } from './run.encoding';
import { runToProto } from './run.mapping';
import type { RunView } from './run.service';

function view(overrides: Partial<RunEntity>, extra: Partial<RunView> = {}): RunView {
  const run = Object.assign(new RunEntity(), {
    id: '0123456789abcdef0123456789abcdef',
    experimentId: 7,
    projectId: 'p1',
    name: 'run',
    userId: 'u1',
    status: 'FINISHED',
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_100_000,
    artifactUri: 'mlflow-artifacts:/7/0123/artifacts',
    artifactStore: 'default',
    lifecycleStage: 'active',
    parentRunId: null,
    deletedWithExperiment: false,
    ...overrides,
  });
  return { run, params: [], tags: [], metrics: [], inputs: [], ...extra };
}

const input = Object.assign(new RunInputEntity(), {
  runId: 'x', position: 0, name: 'train', digest: 'abc', sourceType: 'local', source: '{"uri":"/d"}', schema: '', profile: '{}', context: 'training',
  tags: [{ key: 'mlflow.data.context', value: 'training' }],
});

describe('runs encoded straight to the wire', () => {
  it('decodes to the same runs as protobuf-es would write, whatever the values', () => {
    const views = [
      view({}, {
        params: [{ key: 'lr', value: '0.01' }, { key: 'empty', value: '' }],
        tags: [{ key: 'mlflow.runName', value: 'ünïcode ✓' }, { key: 'note', value: 'long '.repeat(80) }],
        metrics: [
          { key: 'loss', value: 0.25, timestampMs: 1_700_000_000_123, step: 3 },
          { key: 'nan', value: Number.NaN, timestampMs: 0, step: 0 },
          { key: 'inf', value: Number.NEGATIVE_INFINITY, timestampMs: 1, step: -5 },
          { key: 'zero', value: 0, timestampMs: 2, step: 2 ** 53 - 1 },
          { key: 'negative zero', value: -0, timestampMs: -(2 ** 53 - 1), step: -1 },
        ],
        inputs: [input],
      }),
      view({ status: 'RUNNING', endTime: null, lifecycleStage: 'deleted', parentRunId: 'fedcba9876543210fedcba9876543210', name: '' }),
      view({ startTime: 0, endTime: 1_700_000_000_123 }),
    ];
    const reference = toBinary(SearchRunsResponseSchema, create(SearchRunsResponseSchema, { runs: views.map(runToProto), nextPageToken: 'next' }));
    const fast = create(SearchRunsResponseSchema, { nextPageToken: 'next' });
    fast.$unknown = encodedRuns(views);
    const decoded = fromBinary(SearchRunsResponseSchema, toBinary(SearchRunsResponseSchema, fast));
    expect(decoded).toEqual(fromBinary(SearchRunsResponseSchema, reference));
    const runsOnly = create(SearchRunsResponseSchema);
    runsOnly.$unknown = encodedRuns(views);
    expect(Buffer.from(toBinary(SearchRunsResponseSchema, runsOnly))).toEqual(Buffer.from(toBinary(SearchRunsResponseSchema, create(SearchRunsResponseSchema, { runs: views.map(runToProto) }))));
    expect(decoded.runs).toHaveLength(3);
    expect(decoded.runs[1].info?.endTime).toBeUndefined();
    expect(decoded.runs[2].info?.endTime).toMatchObject({ seconds: 1_700_000_000n, nanos: 123_000_000 });
    expect(decoded.runs[0].data?.metrics[1].value).toBeNaN();
  });
});
