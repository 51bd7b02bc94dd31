import { resolve } from 'node:path';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { discoverGpus } from './gpus';
import { LocalComputeBackend } from './local-compute-backend';

/** The config of a compute-local instance. */
export const computeLocalConfig = z
  .object({
    /** Where the state, output and working directory of every job are kept; the instance's data directory when left out. */
    workDir: z.string().min(1, 'workDir must name a directory').optional(),
    /** Variables of the Trellis process that every job also gets (a job's own `env` wins). */
    passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'passEnv names environment variables: letters, digits and _, not starting with a digit')).default(['PATH', 'HOME', 'LANG']),
    /** How long the processes of a cancelled or failed job have after SIGTERM before SIGKILL, in milliseconds. */
    killGraceMs: z.number().int().min(0).max(600_000).default(10_000),
    /** How often jobs are checked for processes that died without a word (SIGKILL from outside), in milliseconds. */
    pollIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
    /** The nvidia-smi that lists the GPUs: a name looked up on PATH, or a path. None installed: no GPUs. */
    nvidiaSmi: z.string().min(1, 'nvidiaSmi must name a program').default('nvidia-smi'),
  })
  .strict();

/** Compute on the Trellis host: each replica of a job is a process group running the job's command. */
export const computeLocalPlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-local', apiVersion: 'v1' },
  configSchema: computeLocalConfig,
  create: async (ctx, config) => {
    const gpus = await discoverGpus(config.nvidiaSmi, ctx.logger);
    const backend = await LocalComputeBackend.open({ ...config, workDir: resolve(config.workDir ?? ctx.dataDir), gpus, logger: ctx.logger });
    ctx.logger.info({ gpus: gpus.map((gpu) => `${gpu.index}:${gpu.type}`) }, 'compute-local runs jobs as local process groups');
    ctx.signal.addEventListener('abort', () => void backend.close(), { once: true });
    return backend;
  },
});
