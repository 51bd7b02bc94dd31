/** Replica log files are named `replica-<index>.out|err`. */
export const REPLICA_LOG = /^replica-(\d+)\.(out|err)$/;

/**
 * The batch script of a job: each replica with its index as `TRELLIS_REPLICA_INDEX` and `RANK`, and
 * `TRELLIS_BACKEND_JOB_ID`, `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT` for distributed training, writing to
 * `<workDir>/<job id>/replica-<index>.out|err`. Several replicas are the `srun` tasks of the job's one
 * allocation; a single one runs in the script itself, which saves the step launch (most of a second).
 * Each task is bound to its own `gpusPerReplica` GPUs of the allocation, in task order
 * (`--gpu-bind=per_task`), so a replica's `CUDA_VISIBLE_DEVICES` names its own only. Without it, Slurm
 * 22.05's srun gave every task all of the job's GPUs (rest mode) or none (cli mode).
 */
export function batchScript(workDir: string, command: readonly string[], replicas: number, gpusPerReplica: number): string {
  const words = command.map(quote).join(' ');
  const bind = gpusPerReplica > 0 ? ` --gpu-bind=per_task:${gpusPerReplica}` : '';
  const run =
    replicas === 1
      ? ['exec >"$dir/replica-0.out" 2>"$dir/replica-0.err"', 'export TRELLIS_REPLICA_INDEX=0 RANK=0 LOCAL_RANK=0', `exec ${words}`]
      : [`exec srun --export=ALL${bind} --output="$dir/replica-%t.out" --error="$dir/replica-%t.err" /bin/sh -c ${quote(REPLICA)} trellis-replica ${words}`];
  return [
    '#!/bin/sh',
    '# Written by Trellis compute-slurm.',
    `dir=${quote(workDir)}/"$SLURM_JOB_ID"`,
    'mkdir -p "$dir"',
    `export TRELLIS_BACKEND_JOB_ID="$SLURM_JOB_ID" WORLD_SIZE=${replicas} MASTER_ADDR="$(hostname)" MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))`,
    ...run,
    '',
  ].join('\n');
}

/** What each srun task runs before the job's command. */
const REPLICA = 'export TRELLIS_REPLICA_INDEX="$SLURM_PROCID" RANK="$SLURM_PROCID" LOCAL_RANK="$SLURM_LOCALID"; exec "$@"';

/** `value` as one word of a POSIX shell. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
