import { checkManifest, isSecretSchema, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance, createTestContext } from '@trellis/plugin-sdk/testing';
import packageJson from '../package.json';
import { computeSlurmConfig } from './compute-slurm.plugin';
import plugin from './index';
import { jobStatus } from './job-state';
import type { SlurmJob } from './slurm-client';

const rest = { mode: 'rest', restUrl: 'http://127.0.0.1:6820', userName: 'slurm', jwtKey: 'k'.repeat(64), workDir: '/shared/jobs' };

describe('compute-slurm config', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'compute', id: 'compute-slurm' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('marks jwtKey as a secret, so the host stores a reference and never shows the value', () => {
    const [, restSchema] = computeSlurmConfig.options;
    expect(restSchema.shape.mode.value).toBe('rest');
    expect(isSecretSchema(restSchema.shape.jwtKey)).toBe(true);
  });

  it.each([
    ['a relative workDir', { mode: 'cli', workDir: 'jobs' }, /workDir must be an absolute path/],
    ['an unknown mode', { mode: 'ssh', workDir: '/jobs' }, /mode/],
    ['rest without its jwtKey', { ...rest, jwtKey: undefined }, /jwtKey/],
    ['a short jwtKey', { ...rest, jwtKey: 'short' }, /jwtKey: the jwt_key must have at least 32 characters/],
    ['a partition with a space', { mode: 'cli', workDir: '/jobs', partition: 'a b' }, /partition: 1 to 64 characters/],
    ['a cli key in rest mode', { ...rest, slurmConf: '/etc/slurm/slurm.conf' }, /slurmConf/],
  ])('refuses %s, naming the key', async (_why, config, message) => {
    const created = createPluginInstance(plugin, config);
    await expect(created).rejects.toBeInstanceOf(PluginConfigError);
    await expect(createPluginInstance(plugin, config)).rejects.toThrow(message);
  });

  it.each([
    ['an empty containerRuntime.command', { command: [] }, /containerRuntime.command: the program first, then its arguments/],
    ['a containerRuntime word with NUL', { command: ['apptainer', 'ex\0ec'] }, /containerRuntime.command: words without NUL characters/],
    ['an unknown containerRuntime key', { command: ['apptainer', 'exec'], prefix: 'docker://' }, /prefix/],
  ])('refuses %s, naming the key', async (_why, containerRuntime, message) => {
    await expect(createPluginInstance(plugin, { mode: 'cli', workDir: '/jobs', containerRuntime })).rejects.toThrow(message);
  });

  it('refuses a container image before asking Slurm anything, naming the cluster and the config key that would run it', async () => {
    const compute = await createPluginInstance(plugin, { mode: 'cli', workDir: '/jobs', slurmConf: '/nonexistent/slurm.conf' }, createTestContext({ instanceName: 'hpc' }));
    const spec = { name: 'img', image: 'python:3.12', resources: { cpus: 1, memoryBytes: 1 } };
    const why = compute.whyCannotRun?.(spec);
    expect(why).toBe(
      `cluster hpc's Slurm runs commands; it has no container runtime configured (compute-slurm config containerRuntime): place job "img" (image python:3.12) on a cluster that runs images, configure containerRuntime, or drop the image and give the command to run`,
    );
    await expect(compute.submit(spec, { idempotencyKey: 'k' })).rejects.toThrow(new TypeError(why));
    expect(compute.whyCannotRun?.({ name: 'cmd', command: ['true'], resources: spec.resources })).toBeUndefined();
  });

  it('with a container runtime, runs jobs with an image and a command, and refuses an image without one unless runCommand is set', async () => {
    const resources = { cpus: 1, memoryBytes: 1 };
    const config = { mode: 'cli', workDir: '/jobs', slurmConf: '/nonexistent/slurm.conf' };
    const exec = await createPluginInstance(plugin, { ...config, containerRuntime: { command: ['apptainer', 'exec'] } }, createTestContext({ instanceName: 'hpc' }));
    expect(exec.whyCannotRun?.({ name: 'train', image: 'python:3.12', command: ['python', 'train.py'], resources })).toBeUndefined();
    expect(exec.whyCannotRun?.({ name: 'serve', image: 'python:3.12', resources })).toMatch(
      /^cluster hpc's Slurm runs an image only with a command: its container runtime has no runCommand .* \(compute-slurm config containerRuntime.runCommand, e.g. \["apptainer", "run"\]\); give job "serve" \(image python:3.12\) a command, or configure runCommand$/,
    );
    await expect(exec.submit({ name: 'serve', image: 'python:3.12', resources }, { idempotencyKey: 'k' })).rejects.toThrow(TypeError);
    await expect(exec.submit({ name: 'spaced', image: 'python 3.12', command: ['true'], resources }, { idempotencyKey: 'k' })).rejects.toThrow(/^image: a container image reference of 1 to 1024 characters without spaces/);
    const run = await createPluginInstance(plugin, { ...config, containerRuntime: { command: ['apptainer', 'exec'], runCommand: ['apptainer', 'run'] } });
    expect(run.whyCannotRun?.({ name: 'serve', image: 'python:3.12', resources })).toBeUndefined();
  });
});

describe('Slurm job states in the contract', () => {
  const job = (state: string, fields: Partial<SlurmJob> = {}): SlurmJob => ({ id: '7', state, reason: 'None', description: '', comment: '', startTime: 0, endTime: 0, ...fields });

  it.each([
    ['PENDING', 'pending'],
    ['CONFIGURING', 'pending'],
    ['REQUEUED', 'pending'],
    ['RUNNING', 'running'],
    ['COMPLETING', 'running'],
    ['SUSPENDED', 'running'],
    ['COMPLETED', 'succeeded'],
    ['CANCELLED', 'cancelled'],
    ['FAILED', 'failed'],
    ['TIMEOUT', 'failed'],
    ['NODE_FAIL', 'failed'],
    ['PREEMPTED', 'failed'],
    ['OUT_OF_MEMORY', 'failed'],
    ['BOOT_FAIL', 'failed'],
    ['DEADLINE', 'failed'],
  ])('maps %s to %s', (state, expected) => {
    expect(jobStatus(job(state)).state).toBe(expected);
  });

  it("keeps Slurm's reason as the message, and a state the contract has no word for in front of it", () => {
    expect(jobStatus(job('PENDING', { reason: 'Priority' })).message).toBe('Priority');
    expect(jobStatus(job('TIMEOUT', { reason: 'TimeLimit' })).message).toBe('TIMEOUT: TimeLimit');
    expect(jobStatus(job('RUNNING')).message).toBeUndefined();
  });

  it("gives a final job's exit code from its wait status, 128 + the signal for a killed script", () => {
    expect(jobStatus(job('FAILED', { waitStatus: 3 << 8, startTime: 100, endTime: 160 }))).toEqual({
      jobId: '7',
      state: 'failed',
      exitCode: 3,
      startedAt: new Date(100_000),
      finishedAt: new Date(160_000),
    });
    expect(jobStatus(job('CANCELLED', { waitStatus: 15 })).exitCode).toBe(143);
  });

  it("gives a pending job no start time, though Slurm reports its estimate there", () => {
    expect(jobStatus(job('PENDING', { startTime: Math.floor(Date.now() / 1000) + 60 })).startedAt).toBeUndefined();
  });
});
