import { JobFileError, parseJobFile } from './job-file';

/** The problems parseJobFile names for `text`, or [] when it reads it. */
function problemsOf(text: string): readonly string[] {
  try {
    parseJobFile(text, 'job.yaml');
    return [];
  } catch (error) {
    if (error instanceof JobFileError) return error.problems;
    throw error;
  }
}

describe('job files', () => {
  it('reads the friendly forms into the proto JSON SubmitJob takes', () => {
    const file = parseJobFile(
      [
        'name: train',
        'command: python train.py --epochs 3',
        'env: { EPOCHS: 3, DEBUG: true, NAME: resnet }',
        'resources: { cpu_millis: "1500", memory_bytes: 1.5Gi, gpus: 2, gpu_type: nvidia-h100 }',
        'replicas: 2',
        'retries: { maxRetries: 3, backoff: 1m30s }',
        'timeout: 3600',
        'inputs: [datasets:/churn/2, { reference: datasets:/labels@golden, mode: DATASET_INPUT_MODE_MOUNT }]',
        'priority_class: high',
        'queue: gpu-a',
        'request_id: nightly-1',
        'experiment: resnet',
      ].join('\n'),
      'job.yaml',
    );
    expect(file).toEqual({
      queue: 'gpu-a',
      requestId: 'nightly-1',
      experiment: 'resnet',
      spec: {
        name: 'train',
        command: ['sh', '-c', 'python train.py --epochs 3'],
        env: { EPOCHS: '3', DEBUG: 'true', NAME: 'resnet' },
        resources: { cpuMillis: '1500', memoryBytes: String(1.5 * 2 ** 30), gpus: 2, gpuType: 'nvidia-h100' },
        replicas: 2,
        retries: { maxRetries: 3, backoff: '90s' },
        timeout: '3600s',
        inputs: [{ reference: 'datasets:/churn/2' }, { reference: 'datasets:/labels@golden', mode: 'DATASET_INPUT_MODE_MOUNT' }],
        priorityClass: 'high',
      },
    });
  });

  it('takes JSON too, an image without a command, and sizes in decimal units', () => {
    expect(parseJobFile('{"name": "serve", "image": "busybox:1.36", "resources": {"memoryBytes": "2G"}}', 'job.json').spec).toEqual({
      name: 'serve',
      image: 'busybox:1.36',
      resources: { memoryBytes: '2000000000' },
    });
  });

  it('names what is wrong with each field by its line and path', () => {
    expect(problemsOf(['name: x', 'command: []', 'replicas: 0', 'resources: { gpus: -1, memory_bytes: lots }', 'env: [A]', 'inputs: [{ mode: copy }]'].join('\n'))).toEqual([
      'job.yaml:2: command: must be a list of strings (the program and its arguments), or one string run with sh -c',
      'job.yaml:3: replicas: must be a positive integer',
      'job.yaml:4: resources.gpus: must be an integer from 0 to 2147483647',
      'job.yaml:4: resources.memory_bytes: must be a positive integer of bytes, or a size such as 512Mi or 4Gi',
      'job.yaml:5: env: must be a mapping of variable names to values',
      'job.yaml:6: inputs[0].mode: must be download or mount',
      'job.yaml:6: inputs[0]: needs a reference',
      'job.yaml:1: the file: needs a command, or an image to run',
    ]);
  });

  it('refuses a field given twice, an experiment given both ways, and YAML that does not parse', () => {
    expect(problemsOf('name: x\ncommand: [true]\ncpuMillis: 1\nresources: { cpuMillis: 1, cpu_millis: 2 }\nexperiment: a\nexperimentId: b\n')).toEqual([
      'job.yaml:3: cpuMillis: unknown field; known here: name, image, command, env, resources, replicas, retries, timeout, inputs, experimentId, experiment, priorityClass, queue, requestId',
      'job.yaml:4: resources.cpu_millis: cpuMillis is given twice (once in camelCase, once in snake_case)',
      'job.yaml:5: experiment: give experiment (a name) or experimentId, not both',
    ]);
    expect(problemsOf('name: x\ncomand: [true]\n')).toEqual(['job.yaml:2: comand: unknown field; did you mean command?', 'job.yaml:1: the file: needs a command, or an image to run']);
    expect(problemsOf('name: x\nname: y\n')).toEqual([expect.stringMatching(/^job\.yaml:2: not valid YAML: Map keys must be unique/)]);
  });
});
