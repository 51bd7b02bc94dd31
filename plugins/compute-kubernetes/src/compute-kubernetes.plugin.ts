import { definePlugin, z } from '@trellis/plugin-sdk';
import { ProcessComputeBackend } from './process-compute-backend';

/** The config of a compute-kubernetes instance. */
export const computeKubernetesConfig = z
  .object({
    /** The directory jobs run in; a relative path is taken from the working directory. The instance's data directory when left out. */
    workDir: z.string().min(1, 'workDir must name a directory').optional(),
    /** Variables of the Trellis process that every job also gets (a job's own `env` wins). */
    passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'passEnv names environment variables: letters, digits and _, not starting with a digit')).default(['PATH', 'HOME', 'LANG']),
  })
  .strict();

/** Compute on the Trellis host: each replica of a job is a child process running the job's command. */
export const computeKubernetesPlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-kubernetes', apiVersion: 'v1' },
  configSchema: computeKubernetesConfig,
  create: (ctx, config) => {
    const backend = new ProcessComputeBackend({ workDir: config.workDir ?? ctx.dataDir, passEnv: config.passEnv });
    ctx.signal.addEventListener('abort', () => void backend.close(), { once: true });
    return backend;
  },
});
