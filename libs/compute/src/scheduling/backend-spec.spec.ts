import type { AttemptEntity, JobEntity } from '../jobs/job.entity';
import { backendSpec } from './backend-spec';

const job = {
  id: 'job-1',
  projectId: 'p1',
  queue: 'gpu-a',
  runId: '',
  admittedRequest: { cpu: 500, memory: 1024, 'gpu/nvidia-h100': 2 },
  spec: {
    name: 'train',
    command: ['python', 'train.py'],
    env: { EPOCHS: '3' },
    resources: { cpuMillis: 500, memoryBytes: 1024, gpus: 2, gpuType: '' },
    replicas: 2,
    retries: { max: 0, backoffMs: 10_000 },
    timeoutMs: 0,
    inputs: [{ reference: 'datasets:/churn@golden', mode: 'DOWNLOAD', resolvedReference: 'datasets:/churn/1' }],
    experimentId: '',
    priorityClass: 'normal',
  },
} as unknown as JobEntity;

describe('what the backend is asked to run for an attempt', () => {
  it('runs the command with the GPU type admission chose, the Trellis labels and variables, and the run variables last', () => {
    const spec = backendSpec(job, { number: 2 } as AttemptEntity, { MLFLOW_RUN_ID: 'r1' });
    expect(spec).toEqual({
      name: 'train',
      command: ['python', 'train.py'],
      replicas: 2,
      resources: { cpus: 0.5, memoryBytes: 1024, gpus: { count: 2, type: 'nvidia-h100' } },
      labels: { 'trellis-job': 'job-1', 'trellis-attempt': '2', 'trellis-project': 'p1' },
      env: {
        EPOCHS: '3',
        TRELLIS_JOB_ID: 'job-1',
        TRELLIS_ATTEMPT: '2',
        TRELLIS_PROJECT_ID: 'p1',
        TRELLIS_QUEUE: 'gpu-a',
        TRELLIS_DATASET_INPUTS: JSON.stringify(job.spec.inputs),
        MLFLOW_RUN_ID: 'r1',
      },
    });
  });
});
