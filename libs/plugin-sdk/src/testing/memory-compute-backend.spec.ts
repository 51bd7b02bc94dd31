import { describeComputeConformance } from './compute.conformance';
import { MemoryComputeBackend } from './memory-compute-backend';

const resources = { cpus: 1, memoryBytes: 64 * 1024 * 1024 };

describeComputeConformance('memory (the test backend)', () => new MemoryComputeBackend(), {
  succeeding: (line) => ({ name: 'succeeds', command: ['echo', line], resources }),
  failing: () => ({ name: 'fails', command: ['exit', '3'], resources }),
  running: () => ({ name: 'runs', command: ['sleep', '3600'], resources }),
  unrunnable: () => ({ name: 'an image', image: 'busybox:1.36', resources }),
});

describe('MemoryComputeBackend', () => {
  const h100 = { 'nvidia-h100-80gb': { count: 8, memoryBytes: 80 * 1024 ** 3 } };
  const backend = () => new MemoryComputeBackend({ capacity: { total: { cpus: 64, memoryBytes: 512 * 1024 ** 3, gpus: h100 } } });
  let keys = 0;
  const submit = (b: MemoryComputeBackend, gpus: { count: number; type?: string; minMemoryBytes?: number }) =>
    b.submit({ name: 'gpu job', command: ['echo', 'hi'], resources: { ...resources, gpus } }, { idempotencyKey: `gpu-${++keys}` });

  it('places GPU requests by count, type and memory per GPU, and names what it lacks', async () => {
    const b = backend();
    await expect(submit(b, { count: 8, type: 'nvidia-h100-80gb' })).resolves.toEqual({ jobId: expect.any(String) });
    await expect(submit(b, { count: 2, minMemoryBytes: 64 * 1024 ** 3 })).resolves.toEqual({ jobId: expect.any(String) });
    await expect(submit(b, { count: 9 })).rejects.toThrow('resources.gpus asks for 9 GPU(s)');
    await expect(submit(b, { count: 1, type: 'nvidia-a100-40gb' })).rejects.toThrow('of type nvidia-a100-40gb');
    await expect(submit(b, { count: 1, minMemoryBytes: 96 * 1024 ** 3 })).rejects.toThrow(/with \d+ bytes each/);
    await b.close();
  });

  it('refuses an image job and an unknown program with a TypeError, starting nothing', async () => {
    const b = backend();
    await expect(b.submit({ name: 'img', image: 'python:3.12', resources }, { idempotencyKey: 'img' })).rejects.toThrow(/runs commands, not container images/);
    await expect(b.submit({ name: 'nope', command: ['python', 'train.py'], resources }, { idempotencyKey: 'nope' })).rejects.toThrow(/"python" is not a program/);
    expect(await b.list({ labels: {} })).toEqual([]);
  });

  it('runs each replica with its index and reports the first failing exit code', async () => {
    const seen: string[] = [];
    const b = new MemoryComputeBackend({ programs: { replica: (_args, io) => (seen.push(io.env.TRELLIS_REPLICA_INDEX), io.replica === 1 ? 7 : 0) } });
    const { jobId } = await b.submit({ name: 'dist', command: ['replica'], replicas: 3, resources }, { idempotencyKey: 'dist' });
    let last;
    for await (const status of b.watch(jobId)) last = status;
    expect(last).toMatchObject({ state: 'failed', exitCode: 7 });
    expect(seen.sort()).toEqual(['0', '1', '2']);
  });
});
