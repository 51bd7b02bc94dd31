import { amounts, GatewayRequestError, inAdmissionOrder, isFinalJob, quantity } from '@trellis/client';
import type { ListClustersResponseJson } from '@trellis/proto/trellis/compute/v1/cluster_service_pb';
import type { CancelJobResponseJson, ListJobsResponseJson, StreamJobLogsResponseJson, SubmitJobResponseJson } from '@trellis/proto/trellis/compute/v1/job_service_pb';
import type { GetGrantResponseJson, GetQueueResponseJson, ListQueuesResponseJson } from '@trellis/proto/trellis/compute/v1/queue_service_pb';
import type { GrantJson, JobJson, QueueJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import type { GetExperimentByNameResponseJson } from '@trellis/proto/trellis/tracking/v1/experiment_service_pb';
import { InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { JobFileError, parseJobFile } from '../jobs/job-file';
import { commandText, resourcesText, STATE_NAMES, stateName } from '../jobs/job-format';
import { followJobLogs, getJob, untilInterrupted, watchJob } from '../jobs/job-watch';
import type { CommandGroup } from '../command-group';

/** `trellis jobs`, `trellis queues` and `trellis clusters`: submit from a YAML file, follow logs, cancel, and the queue with reasons. */
export const registerJobs: CommandGroup = (program, context) => {
  const jobs = program.command('jobs').description("the project's jobs: submit from a YAML file, watch, read their logs, cancel");

  jobs
    .command('submit')
    .description('submit a job described by a YAML file to a queue, and print its id')
    .requiredOption('-f, --file <job.yaml>', 'the job file (- reads standard input)')
    .option('-q, --queue <name>', "queue to submit to (default: the file's queue:)")
    .option('--request-id <id>', 'submit at most once: a retry with the same id returns the first job')
    .option('--wait', 'follow the job until it ends; exit 9 unless it succeeded')
    .option('--dry-run', 'print the SubmitJob request as JSON and submit nothing')
    .addHelpText(
      'after',
      `
Example:
  trellis jobs submit -f job.yaml --queue gpu-a --wait

job.yaml (the proto's field names, camelCase or snake_case):
  name: resnet
  command: ["python", "train.py"]     # or one string, run with sh -c
  image: pytorch/pytorch:2.5          # optional: a container image
  env: { EPOCHS: 10 }
  resources: { cpuMillis: 4000, memoryBytes: 16Gi, gpus: 1, gpuType: nvidia-h100 }
  replicas: 2
  retries: { maxRetries: 2, backoff: 30s }
  timeout: 1h
  inputs:
    - datasets:/imagenet@golden       # downloaded
    - { reference: datasets:/labels/3, mode: mount }
  experiment: resnet                  # by name (or experimentId)
  priorityClass: high
  queue: gpu-a`,
    )
    .action(async (options: { file: string; queue?: string; requestId?: string; wait?: boolean; dryRun?: boolean }) => {
      const ctx = context();
      const file = readJobFile(options.file);
      const queue = options.queue ?? file.queue;
      if (!queue) throw new CliError('no queue: pass --queue <name> or put queue: in the job file (`trellis queues list` shows the queues)', EXIT.usage);
      const projectId = await ctx.projectId();
      const spec = { ...file.spec };
      if (file.experiment !== undefined) {
        const { experiment } = await ctx.client().call<GetExperimentByNameResponseJson>('trellis.tracking.v1.ExperimentService/GetExperimentByName', { projectId, name: file.experiment });
        spec.experimentId = experiment?.id;
      }
      const request = { projectId, queue, spec, ...(options.requestId ?? file.requestId ? { requestId: options.requestId ?? file.requestId } : {}) };
      if (options.dryRun) return ctx.output.json(request);
      const { job = {} } = await ctx.client().call<SubmitJobResponseJson>('trellis.compute.v1.JobService/SubmitJob', request);
      if (!options.wait) return ctx.output.done(`Submitted job ${job.id} (${job.spec?.name}) to queue ${job.queue}: ${stateName(job.state)}.`, job);
      if (ctx.output.format === 'table') ctx.output.line(`Submitted job ${job.id} (${job.spec?.name}) to queue ${job.queue}.`);
      await waitForEnd(ctx, job.id ?? '');
    });

  jobs
    .command('list')
    .description("list the project's jobs, newest first")
    .option('-q, --queue <name>', 'only jobs of this queue')
    .addOption(new Option('-s, --state <state>', 'only jobs in this state').choices(STATE_NAMES))
    .option('-n, --limit <count>', 'at most this many jobs', positiveInteger, 100)
    .addHelpText('after', '\nExamples:\n  trellis jobs list --state queued\n  trellis jobs list --queue gpu-a -o json')
    .action(async (options: { queue?: string; state?: string; limit: number }) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const filter = { projectId, queue: options.queue ?? '', state: options.state ? `JOB_STATE_${options.state.toUpperCase()}` : 'JOB_STATE_UNSPECIFIED' };
      const rows = await listJobs(ctx, filter, options.limit);
      ctx.output.table(rows, [
        { header: 'id', value: (job) => job.id },
        { header: 'name', value: (job) => job.spec?.name },
        { header: 'state', value: (job) => stateName(job.state) },
        { header: 'queue', value: (job) => job.queue },
        { header: 'submitted', value: (job) => job.createTime },
        { header: 'reason', value: (job) => short(job.reason) },
      ]);
    });

  jobs
    .command('show <job-id>')
    .description('show a job: state and why, where it runs, its run, its spec and every attempt')
    .addHelpText('after', '\nExample:\n  trellis jobs show 0193f3c2-...')
    .action(async (jobId: string) => {
      const ctx = context();
      const job = await getJob(ctx.client(), jobId);
      if (ctx.output.format === 'json') return ctx.output.json(job);
      const spec = job.spec ?? {};
      ctx.output.fields([
        ['id', job.id],
        ['name', spec.name],
        ['state', stateName(job.state)],
        ['reason', job.reason],
        ['queue', job.queue],
        ['priority', `${job.priority ?? 0}${spec.priorityClass ? ` (${spec.priorityClass})` : ''}`],
        ['borrowing', job.borrowing ? 'yes: it uses quota lent by the cohort' : 'no'],
        ['run', job.runId],
        ['experiment', spec.experimentId],
        ['submitted by', job.creatorId],
        ['submitted', job.createTime],
        ['updated', job.updateTime],
        ['command', commandText(job)],
        ['resources', `${resourcesText(spec.resources)} per replica`],
        ['replicas', spec.replicas || 1],
        ['retries', spec.retries?.maxRetries ? `${spec.retries.maxRetries}, backoff ${spec.retries.backoff ?? '10s'}` : 'none'],
        ['timeout', spec.timeout ?? 'none'],
        ['inputs', (spec.inputs ?? []).map((input) => `${input.resolvedReference || input.reference} (${(input.mode ?? 'DATASET_INPUT_MODE_DOWNLOAD').replace('DATASET_INPUT_MODE_', '').toLowerCase()})`).join(', ')],
        ['env', Object.keys(spec.env ?? {}).join(', ')],
      ]);
      ctx.output.line('');
      ctx.output.line('Attempts:');
      ctx.output.table(job.attempts ?? [], [
        { header: '#', value: (attempt) => attempt.number },
        { header: 'state', value: (attempt) => stateName(attempt.state) },
        { header: 'cluster', value: (attempt) => attempt.cluster },
        { header: 'started', value: (attempt) => attempt.startTime },
        { header: 'finished', value: (attempt) => attempt.finishTime },
        { header: 'exit', value: (attempt) => attempt.exitCode },
        { header: 'reason', value: (attempt) => attempt.reason },
      ]);
    });

  jobs
    .command('logs <job-id>')
    .description("print a job's log lines (its latest attempt); -f follows them as they come until the job ends, like tail -f (Ctrl-C stops)")
    .option('-f, --follow', 'wait for the job to start, then print lines as they come, through retries, until the job ends')
    .option('-a, --attempt <number>', 'the attempt to print (default: the latest)', positiveInteger)
    .addHelpText('after', '\nExamples:\n  trellis jobs logs 0193f3c2-... -f\n  trellis jobs logs 0193f3c2-... --attempt 1 -o json   # one JSON object per line\n\nExits 9 when the job failed or was cancelled.')
    .action(async (jobId: string, options: { follow?: boolean; attempt?: number }) => {
      const ctx = context();
      const client = ctx.client();
      const { spec } = await getJob(client, jobId);
      const print = lineWriter(ctx, (spec?.replicas ?? 1) > 1);
      const interrupted = await untilInterrupted(async (signal) => {
        const lines = options.follow && !options.attempt
          ? followJobLogs(client, jobId, { signal, onWait: (job) => progress(`job ${job.id} is ${stateName(job.state)}${job.reason ? `: ${job.reason}` : ''}`) })
          : client.stream<StreamJobLogsResponseJson>('trellis.compute.v1.JobService/StreamJobLogs', { jobId, attempt: options.attempt ?? 0, follow: !!options.follow }, { signal });
        try {
          for await (const line of lines) print(line);
        } catch (error) {
          if (error instanceof GatewayRequestError && error.reason === 'JOB_NOT_STARTED') throw new CliError(`${error.message}\n\`trellis jobs logs ${jobId} -f\` waits for it to start.`, EXIT.conflict);
          throw error;
        }
      });
      if (interrupted) return void (process.exitCode = EXIT.interrupted);
      failUnlessSucceeded(await getJob(client, jobId), { finalOnly: true });
    });

  jobs
    .command('cancel <job-id>')
    .description('cancel a job: a queued one never runs, a running one is stopped')
    .addHelpText('after', '\nExample:\n  trellis jobs cancel 0193f3c2-...')
    .action(async (jobId: string) => {
      const ctx = context();
      const { job = {} } = await ctx.client().call<CancelJobResponseJson>('trellis.compute.v1.JobService/CancelJob', { jobId });
      ctx.output.done(`Cancelled job ${job.id} (${job.spec?.name}).`, job);
    });

  const queues = program.command('queues').description('the queues jobs go to, and why jobs wait there');
  queues
    .command('list')
    .description('list the queues')
    .addHelpText('after', '\nExample:\n  trellis queues list')
    .action(async () => {
      const ctx = context();
      const rows: QueueJson[] = [];
      let pageToken = '';
      do {
        const page = await ctx.client().call<ListQueuesResponseJson>('trellis.compute.v1.QueueService/ListQueues', { pageSize: 1000, pageToken });
        rows.push(...(page.queues ?? []));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      ctx.output.table(rows, [
        { header: 'name', value: (queue) => queue.name },
        { header: 'clusters', value: (queue) => clusterNames(queue) },
        { header: 'placement', value: (queue) => placementName(queue.placement) },
        { header: 'cohort', value: (queue) => queue.cohort || queue.name },
        { header: 'description', value: (queue) => short(queue.description) },
      ]);
    });
  queues
    .command('show <name>')
    .description("show a queue, the project's quota and usage there, and its pending jobs in the order admission takes them, each with why it waits")
    .addHelpText('after', '\nExample:\n  trellis queues show gpu-a --project vision\n\nPositions count the project\'s own pending jobs: higher priority first, then the earlier submitted.')
    .action(async (name: string) => {
      const ctx = context();
      const projectId = await ctx.projectId();
      const { queue = {} } = await ctx.client().call<GetQueueResponseJson>('trellis.compute.v1.QueueService/GetQueue', { name });
      const grant = await grantOf(ctx, name, projectId);
      const pending = inAdmissionOrder(await listJobs(ctx, { projectId, queue: name, state: 'JOB_STATE_QUEUED' }, Infinity)).map((job, index) => ({ position: index + 1, ...job }));
      if (ctx.output.format === 'json') return ctx.output.json({ queue, grant: grant ?? null, pending });
      ctx.output.fields([
        ['name', queue.name],
        ['clusters', clusterNames(queue)],
        ['placement', placementName(queue.placement)],
        ['cohort', queue.cohort || queue.name],
        ['preemption', preemptionText(queue)],
        ['description', queue.description],
      ]);
      ctx.output.line('');
      if (!grant) ctx.output.line(`The project has no grant on queue ${name}: its jobs there wait until an org admin gives it one.`);
      else {
        ctx.output.line("The project's quota:");
        ctx.output.table(grant.quotas ?? [], [
          { header: 'resource', value: (quota) => quota.resource },
          { header: 'quota', value: (quota) => quantity(quota.resource, quota.nominal) },
          { header: 'may borrow', value: (quota) => (quota.borrowingLimit === undefined ? 'no limit' : quantity(quota.resource, quota.borrowingLimit)) },
          { header: 'may lend', value: (quota) => (quota.lendingLimit === undefined ? 'all' : quantity(quota.resource, quota.lendingLimit)) },
          { header: 'in use', value: (quota) => quantity(quota.resource, grant.usage?.find((usage) => usage.resource === quota.resource)?.amount ?? 0) },
        ]);
      }
      ctx.output.line('');
      ctx.output.line('Pending jobs, in the order admission takes them:');
      ctx.output.table(pending, [
        { header: 'position', value: (job) => job.position },
        { header: 'id', value: (job) => job.id },
        { header: 'name', value: (job) => job.spec?.name },
        { header: 'priority', value: (job) => job.priority ?? 0 },
        { header: 'submitted', value: (job) => job.createTime },
        { header: 'why it waits', value: (job) => job.reason },
      ]);
    });

  program
    .command('clusters')
    .description('the clusters jobs run on')
    .command('list')
    .description('list the clusters with their health, capacity and what is free')
    .addHelpText('after', '\nExample:\n  trellis clusters list -o json')
    .action(async () => {
      const ctx = context();
      const { clusters = [] } = await ctx.client().call<ListClustersResponseJson>('trellis.compute.v1.ClusterService/ListClusters', {});
      ctx.output.table(clusters, [
        { header: 'name', value: (cluster) => cluster.name },
        { header: 'plugin', value: (cluster) => cluster.plugin },
        { header: 'healthy', value: (cluster) => (cluster.healthy ? 'yes' : `no: ${cluster.healthMessage ?? ''}`) },
        { header: 'capacity', value: (cluster) => amounts(cluster.capacity) },
        { header: 'free', value: (cluster) => amounts(cluster.available) },
      ]);
    });
};

function readJobFile(path: string) {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the job file ${path.slice(0, 200)}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    return parseJobFile(text, path === '-' ? '<stdin>' : path);
  } catch (error) {
    if (error instanceof JobFileError) throw new CliError(error.message, EXIT.invalidArgument);
    throw error;
  }
}

/** Up to `limit` jobs of a listing, newest first, page after page. */
async function listJobs(ctx: CliContext, filter: { projectId: string; queue: string; state: string }, limit: number): Promise<JobJson[]> {
  const jobs: JobJson[] = [];
  let pageToken = '';
  do {
    const page = await ctx.client().call<ListJobsResponseJson>('trellis.compute.v1.JobService/ListJobs', { ...filter, pageSize: Math.min(1000, limit - jobs.length), pageToken });
    jobs.push(...(page.jobs ?? []));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken && jobs.length < limit);
  return jobs.slice(0, limit);
}

/** The project's grant on the queue, or undefined when it has none. */
async function grantOf(ctx: CliContext, queue: string, projectId: string): Promise<GrantJson | undefined> {
  try {
    return (await ctx.client().call<GetGrantResponseJson>('trellis.compute.v1.QueueService/GetGrant', { queue, projectId })).grant;
  } catch (error) {
    if (error instanceof GatewayRequestError && error.reason === 'GRANT_NOT_FOUND') return undefined;
    throw error;
  }
}

/** Follows a submitted job to its end (`submit --wait`); Ctrl-C stops waiting, not the job. */
async function waitForEnd(ctx: CliContext, jobId: string): Promise<void> {
  let ended: JobJson = {};
  const interrupted = await untilInterrupted(async (signal) => {
    ended = await watchJob(ctx.client(), jobId, isFinalJob, { signal, onChange: (job) => progress(`${stateName(job.state)}${job.reason ? `: ${job.reason}` : ''}`) });
  });
  if (interrupted) {
    process.stderr.write(`Stopped waiting; job ${jobId} goes on (\`trellis jobs cancel ${jobId}\` stops it).\n`);
    return void (process.exitCode = EXIT.interrupted);
  }
  if (ended.state === 'JOB_STATE_SUCCEEDED') return ctx.output.done(`Job ${jobId} succeeded.`, ended);
  if (ctx.output.format === 'json') ctx.output.json(ended);
  failUnlessSucceeded(ended, { finalOnly: false });
}

/** Throws exit code 9 for a job that failed or was cancelled (one still running passes when `finalOnly`). */
function failUnlessSucceeded(job: JobJson, { finalOnly }: { finalOnly: boolean }): void {
  if (job.state === 'JOB_STATE_SUCCEEDED' || (finalOnly && !isFinalJob(job))) return;
  throw new CliError(`job ${job.id} ${stateName(job.state)}${job.reason ? `: ${job.reason}` : ''}`, EXIT.checkFailed);
}

/** Prints log lines: as they were written (with `[replica]` before each when there are several), or one JSON object a line. */
function lineWriter(ctx: CliContext, severalReplicas: boolean): (line: StreamJobLogsResponseJson) => void {
  if (ctx.output.format === 'json') return (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
  return (line) => process.stdout.write(`${severalReplicas ? `[${line.replica ?? 0}] ` : ''}${line.line ?? ''}\n`);
}

/** A note on how a wait goes, to standard error, only for a person watching a terminal. */
function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${message}\n`);
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('must be a positive integer.');
  return number;
}

function short(text: string | undefined, length = 100): string {
  return !text || text.length <= length ? (text ?? '') : `${text.slice(0, length - 1)}…`;
}

function clusterNames(queue: QueueJson): string {
  return (queue.clusters ?? []).map((cluster) => cluster.name).join(', ') || (queue.cluster ?? '');
}

function placementName(placement: string | undefined): string {
  return (placement && placement !== 'PLACEMENT_POLICY_UNSPECIFIED' ? placement : 'PLACEMENT_POLICY_FIRST_FIT').replace('PLACEMENT_POLICY_', '').toLowerCase().replace(/_/g, ' ');
}

function preemptionText(queue: QueueJson): string {
  const reclaim = (queue.preemption?.reclaimWithinCohort ?? '').replace(/^RECLAIM_WITHIN_COHORT_(UNSPECIFIED)?/, '').toLowerCase().replace(/_/g, ' ') || 'never';
  const within = (queue.preemption?.withinQueue ?? '').replace(/^WITHIN_QUEUE_(UNSPECIFIED)?/, '').toLowerCase().replace(/_/g, ' ') || 'never';
  return `reclaims from cohort borrowers: ${reclaim}; within the queue: ${within}`;
}
