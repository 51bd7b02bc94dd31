import { isAbsolute } from 'node:path';
import { definePlugin, secret, z } from '@trellis/plugin-sdk';
import { SlurmComputeBackend } from './slurm-backend';
import { SlurmCli } from './slurm-cli';
import { SlurmRest } from './slurm-rest';

const SLURM_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const slurmName = (what: string) => z.string().regex(SLURM_NAME, `${what}: 1 to 64 characters of A-Z a-z 0-9 . _ -`);
const absolutePath = (what: string) => z.string().refine(isAbsolute, `${what} must be an absolute path`);
const words = (what: string) =>
  z
    .array(z.string().min(1).max(4096).refine((word) => !word.includes('\0'), `${what}: words without NUL characters`))
    .min(1, `${what}: the program first, then its arguments`)
    .max(64);

/** How the nodes run a container image: the runtime's program and arguments, which the image and the job's command follow. */
const containerRuntime = z
  .object({
    /** Runs a command in an image: `["apptainer", "exec"]`, followed by the image and the job's command. */
    command: words('containerRuntime.command'),
    /** Put in front of the job's image: `docker://` for Apptainer to pull `python:3.12` from a registry. */
    imagePrefix: z
      .string()
      .max(256)
      .refine((prefix) => !prefix.includes('\0'), 'containerRuntime.imagePrefix: no NUL characters')
      .default(''),
    /** Runs an image's own entrypoint, for a job with an image and no command: `["apptainer", "run"]`, followed by the image. Left out: such a job is refused. */
    runCommand: words('containerRuntime.runCommand').optional(),
  })
  .strict();

/** What both modes share. */
const common = {
  /** Where jobs run and write their output (`<workDir>/<job id>/replica-<n>.out|err`): a directory this host and the nodes share, writable by the jobs' user. */
  workDir: absolutePath('workDir'),
  /** The partition, account and QOS jobs are submitted to (Slurm's defaults when left out). */
  partition: slurmName('partition').optional(),
  account: slurmName('account').optional(),
  qos: slurmName('qos').optional(),
  /** Memory of one GPU of each GRES type (`{ a100: 85899345920 }`): Slurm does not know it, and capacity reports it. */
  gpuMemoryBytes: z.record(z.string().regex(SLURM_NAME, 'gpuMemoryBytes: keys are GRES types'), z.number().int().positive()).default({}),
  /** PATH of jobs whose env sets none. */
  path: z.string().min(1).default('/usr/local/bin:/usr/bin:/bin'),
  /** How often a watch or a followed log asks Slurm, in milliseconds (Slurm pushes nothing). */
  pollIntervalMs: z.number().int().min(50).max(60_000).default(500),
  /** How jobs with a container image run (Apptainer, Singularity, Podman on the nodes); left out, such jobs are refused. */
  containerRuntime: containerRuntime.optional(),
};

/** The config of a compute-slurm instance: `mode: cli` (Slurm's commands on this host) or `mode: rest` (slurmrestd). */
export const computeSlurmConfig = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('cli'),
      /** The cluster's slurm.conf, given to the commands as SLURM_CONF (their default, /etc/slurm/slurm.conf, when left out). */
      slurmConf: absolutePath('slurmConf').optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      mode: z.literal('rest'),
      /** slurmrestd's address, `http://host:6820` (OpenAPI v0.0.38, rest_auth/jwt). */
      restUrl: z.url({ protocol: /^https?$/, error: 'restUrl: an http or https URL of slurmrestd' }),
      /** The Slurm user jobs run as (the token's `sun`). */
      userName: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'userName: a Unix user name'),
      /** slurmctld's jwt_key (AuthAltParameters), a secret reference (`file:/etc/slurm/jwt.key`): tokens are minted with it. */
      jwtKey: secret(z.string().min(32, 'jwtKey: the jwt_key must have at least 32 characters')),
      ...common,
    })
    .strict(),
]);

/** Compute on a Slurm cluster: a Trellis job is a batch job, its replicas the tasks of one allocation. */
export const computeSlurmPlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-slurm', apiVersion: 'v1' },
  configSchema: computeSlurmConfig,
  create: (ctx, config) => {
    const slurm = config.mode === 'rest' ? new SlurmRest(config.restUrl.replace(/\/+$/, ''), config.userName, config.jwtKey) : new SlurmCli(config.slurmConf);
    return new SlurmComputeBackend(slurm, { ...config, cluster: ctx.instanceName, signal: ctx.signal });
  },
});
