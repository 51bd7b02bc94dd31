import { checkManifest, isSecretSchema, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
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

  it('refuses a container image before asking Slurm anything', async () => {
    const compute = await createPluginInstance(plugin, { mode: 'cli', workDir: '/jobs', slurmConf: '/nonexistent/slurm.conf' });
    await expect(compute.submit({ name: 'img', image: 'python:3.12', resources: { cpus: 1, memoryBytes: 1 } }, { idempotencyKey: 'k' })).rejects.toThrow(/^image: /);
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
