import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '@trellis/platform';
import { DatasetInputMode, JobSpecSchema } from '@trellis/proto';
import { admissionRequest, validateJobSpec } from './job-spec';

const limits = { maxReplicas: 8, priorityClass: 'normal' };
const GiB = 1024 ** 3;

describe('a submitted job spec', () => {
  it('fills in the defaults: one replica of one core and 1 GiB, no retry, 10 s backoff, no timeout', () => {
    const spec = validateJobSpec(create(JobSpecSchema, { name: 'train', command: ['python', 'train.py'] }), limits);
    expect(spec).toEqual({
      name: 'train',
      command: ['python', 'train.py'],
      env: {},
      resources: { cpuMillis: 1000, memoryBytes: GiB, gpus: 0, gpuType: '' },
      replicas: 1,
      retries: { max: 0, backoffMs: 10_000 },
      timeoutMs: 0,
      inputs: [],
      experimentId: '',
      priorityClass: 'normal',
    });
  });

  it('keeps an image, dataset inputs with their mode, retries and a timeout in milliseconds', () => {
    const spec = validateJobSpec(
      create(JobSpecSchema, {
        name: 'train',
        image: 'ghcr.io/acme/train:1',
        inputs: [{ reference: 'datasets:/churn@golden', mode: DatasetInputMode.MOUNT }, { reference: 'datasets:/churn/3' }],
        retries: { maxRetries: 2, backoff: { seconds: 1n, nanos: 500_000_000 } },
        timeout: { seconds: 60n },
      }),
      limits,
    );
    expect(spec).toMatchObject({
      image: 'ghcr.io/acme/train:1',
      command: [],
      inputs: [
        { reference: 'datasets:/churn@golden', mode: 'MOUNT' },
        { reference: 'datasets:/churn/3', mode: 'DOWNLOAD' },
      ],
      retries: { max: 2, backoffMs: 1500 },
      timeoutMs: 60_000,
    });
  });

  it.each([
    [{ command: [] }, 'spec.command'],
    [{ name: ' ' }, 'spec.name'],
    [{ image: 'has space' }, 'spec.image'],
    [{ replicas: 9 }, 'spec.replicas'],
    [{ env: { '1BAD': 'x' } }, 'spec.env'],
    [{ env: { MLFLOW_RUN_ID: 'x' } }, 'spec.env'],
    [{ env: { BIG: 'x'.repeat(70_000) } }, 'spec.env'],
    [{ resources: { gpus: -1 } }, 'spec.resources.gpus'],
    [{ resources: { gpus: 1, gpuType: 'bad type' } }, 'spec.resources.gpu_type'],
    [{ retries: { maxRetries: 11 } }, 'spec.retries.max_retries'],
    [{ timeout: { seconds: 0n } }, 'spec.timeout'],
    [{ inputs: [{ reference: 'datasets:/churn' }] }, 'spec.inputs[0].reference'],
  ])('refuses %j, naming %s', (fields, field) => {
    const attempt = () => validateJobSpec(create(JobSpecSchema, { name: 'train', command: ['true'], ...fields }), limits);
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}: `));
  });

  it('asks admission for typed GPUs as a resource, and for untyped ones apart, for it to place', () => {
    const typed = validateJobSpec(create(JobSpecSchema, { name: 't', command: ['true'], resources: { gpus: 2, gpuType: 'nvidia-h100', cpuMillis: 500n } }), limits);
    expect(admissionRequest(typed)).toEqual({ request: { cpu: 500, memory: GiB, 'gpu/nvidia-h100': 2 } });
    const untyped = validateJobSpec(create(JobSpecSchema, { name: 't', command: ['true'], resources: { gpus: 2 } }), limits);
    expect(admissionRequest(untyped)).toEqual({ request: { cpu: 1000, memory: GiB }, anyGpu: { count: 2 } });
  });
});
