import { eventually, platformClient, seedName, seedProject, seedUser, sharedPlatform } from '@trellis/testing';
import type { JobJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT } from './exit-codes';
import { jsonOf, newConfigDir, runCli } from '../test/run-cli';

/** A shell command that prints `first`, waits until the file `gate` exists, then prints `second`. */
const gated = (gate: string) => ['sh', '-c', 'echo "$GREETING first"; while [ ! -f "$0" ]; do sleep 0.1; done; echo second', gate];

describe('trellis jobs, queues and clusters', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-cli-jobs-'));
  });

  it('submits a job from a YAML file, lists and shows it, and follows its logs live to the end', async () => {
    const { project, editorKey, queue } = await seedQueue('cli-jobs-follow', 1000);
    const gate = join(dir, 'follow.gate');
    const file = join(dir, 'follow.yaml');
    writeFileSync(
      file,
      [
        'name: greet',
        `command: ${JSON.stringify(gated(gate))}`,
        'env: { GREETING: hello }',
        'resources: { cpu_millis: 100, memoryBytes: 64Mi }',
        `queue: ${queue}`,
        '',
      ].join('\n'),
    );
    const submitted = jsonOf<JobJson>(await runCli(['jobs', 'submit', '-f', file, '-p', project, '-o', 'json'], { apiKey: editorKey }));
    expect(submitted).toMatchObject({ queue, state: 'JOB_STATE_QUEUED', spec: { name: 'greet', env: { GREETING: 'hello' }, resources: { cpuMillis: '100', memoryBytes: String(64 * 2 ** 20) } } });
    const jobId = submitted.id ?? '';

    const follow = startCli(['jobs', 'logs', jobId, '-f', '-p', project], editorKey);
    await follow.stdoutContains('hello first\n');
    expect(follow.exited).toBe(false);
    writeFileSync(gate, '');
    expect(await follow.exit).toEqual({ code: 0, stdout: 'hello first\nsecond\n', stderr: '' });

    const show = await runCli(['jobs', 'show', jobId, '-p', project], { apiKey: editorKey });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^state: +succeeded$/m);
    expect(show.stdout).toMatch(/^resources: +cpu 0\.1 cores, memory 64.0 MiB per replica$/m);
    expect(show.stdout).toMatch(/^1 +succeeded +local /m);
    const listed = jsonOf<JobJson[]>(await runCli(['jobs', 'list', '-p', project, '--state', 'succeeded', '-o', 'json'], { apiKey: editorKey }));
    expect(listed.map((job) => [job.id, job.state])).toEqual([[jobId, 'JOB_STATE_SUCCEEDED']]);
    const table = await runCli(['jobs', 'list', '-p', project], { apiKey: editorKey });
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +NAME +STATE +QUEUE +SUBMITTED +REASON$/);
    expect(table.stdout).toContain(`${jobId}  greet  succeeded  ${queue}`);
    const logs = await runCli(['jobs', 'logs', jobId, '-p', project, '-o', 'json'], { apiKey: editorKey });
    expect(logs.stdout.trim().split('\n').map((line) => JSON.parse(line) as { line: string; attempt: number })).toMatchObject([
      { line: 'hello first', attempt: 1, stream: 'LOG_STREAM_STDOUT' },
      { line: 'second', attempt: 1, stream: 'LOG_STREAM_STDOUT' },
    ]);
  });

  it('follows a job through a retry: the failed attempt\'s lines, then the next one\'s, to the end', async () => {
    const { project, editorKey, queue } = await seedQueue('cli-jobs-retry', 1000);
    const marker = join(dir, 'retry.marker');
    const file = join(dir, 'retry.yaml');
    const gate = join(dir, 'retry.gate');
    // The first attempt fails once the gate opens (so the spec follows it before it ends); the retry succeeds.
    const script = 'if [ -f "$0" ]; then echo "second try"; else touch "$0"; echo "first try"; while [ ! -f "$1" ]; do sleep 0.1; done; exit 1; fi';
    writeFileSync(file, `name: flaky\ncommand: ${JSON.stringify(['sh', '-c', script, marker, gate])}\nresources: { cpuMillis: 100, memoryBytes: 64Mi }\nretries: { maxRetries: 1, backoff: 0.1s }\n`);
    const jobId = jsonOf<JobJson>(await runCli(['jobs', 'submit', '-f', file, '-q', queue, '-p', project, '-o', 'json'], { apiKey: editorKey })).id ?? '';
    const follow = startCli(['jobs', 'logs', jobId, '-f', '-p', project], editorKey);
    await follow.stdoutContains('first try\n');
    writeFileSync(gate, '');
    expect(await follow.exit).toEqual({ code: 0, stdout: 'first try\nsecond try\n', stderr: '' });
    const attempts = jsonOf<JobJson>(await runCli(['jobs', 'show', jobId, '-p', project, '-o', 'json'], { apiKey: editorKey })).attempts ?? [];
    expect(attempts.map((attempt) => [attempt.number, attempt.state])).toEqual([
      [1, 'ATTEMPT_STATE_FAILED'],
      [2, 'ATTEMPT_STATE_SUCCEEDED'],
    ]);
  });

  it("names each problem of a job file by its line and path, and --dry-run prints the request without submitting", async () => {
    const { project, projectId, editorKey, queue } = await seedQueue('cli-jobs-file', 1000);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['name: bad', 'comand: [echo]', 'resources:', '  cpuMillis: -5', 'timeout: soon', 'inputs: [churn]', ''].join('\n'));
    const refused = await runCli(['jobs', 'submit', '-f', bad, '--queue', queue, '-p', project], { apiKey: editorKey });
    expect(refused.code).toBe(EXIT.invalidArgument);
    expect(refused.stderr.split('\n').slice(1, -1)).toEqual([
      `  ${bad}:2: comand: unknown field; did you mean command?`,
      `  ${bad}:4: resources.cpuMillis: must be a positive integer`,
      `  ${bad}:5: timeout: must be a duration such as 90s, 5m or 1h30m (or a number of seconds)`,
      `  ${bad}:6: inputs[0]: must be a dataset reference: datasets:/<name>/<version> or datasets:/<name>@<tag>`,
      `  ${bad}:1: the file: needs a command, or an image to run`,
    ]);

    const good = join(dir, 'good.yaml');
    const { experiment } = await platformClient(editorKey).call<{ experiment: { id: string } }>('trellis.tracking.v1.ExperimentService/CreateExperiment', { projectId, name: 'nightly' });
    writeFileSync(good, ['name: nightly', 'command: python train.py', 'experiment: nightly', 'retries: { max_retries: 2, backoff: 1m }', 'timeout: 1h30m', 'inputs: [{ reference: datasets:/churn@golden, mode: mount }]', ''].join('\n'));
    const dryRun = await runCli(['jobs', 'submit', '-f', good, '--queue', queue, '-p', project, '--dry-run'], { apiKey: editorKey });
    expect(jsonOf(dryRun)).toEqual({
      projectId,
      queue,
      spec: {
        name: 'nightly',
        command: ['sh', '-c', 'python train.py'],
        retries: { maxRetries: 2, backoff: '60s' },
        timeout: '5400s',
        inputs: [{ reference: 'datasets:/churn@golden', mode: 'DATASET_INPUT_MODE_MOUNT' }],
        experimentId: experiment.id,
      },
    });
    expect(jsonOf(await runCli(['jobs', 'list', '-p', project, '-o', 'json'], { apiKey: editorKey }))).toEqual([]);
    const noQueue = await runCli(['jobs', 'submit', '-f', good, '-p', project], { apiKey: editorKey });
    expect(noQueue).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('pass --queue') });
  });

  it('shows why a job waits in its queue, stops following on Ctrl-C, cancels, and exits with codes scripts can rely on', async () => {
    const { project, projectId, editorKey, queue } = await seedQueue('cli-jobs-queue', 200);
    const job = (name: string, command: string[]) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `name: ${name}\ncommand: ${JSON.stringify(command)}\nresources: { cpuMillis: 200, memoryBytes: 64Mi }\n`);
      return file;
    };
    const submit = async (file: string) => jsonOf<JobJson>(await runCli(['jobs', 'submit', '-f', file, '-q', queue, '-p', project, '-o', 'json'], { apiKey: editorKey })).id ?? '';
    // The grant holds one job at a time: `holder` runs until cancelled, `waiter` waits for its quota.
    const holder = await submit(job('holder', gated(join(dir, 'never.gate'))));
    const waiter = await submit(job('waiter', ['true']));

    const follow = startCli(['jobs', 'logs', holder, '--follow', '-p', project], editorKey);
    await follow.stdoutContains(' first\n');
    follow.interrupt();
    expect(await follow.exit).toEqual({ code: 130, stdout: ' first\n', stderr: '' });

    const shown = await eventually(async () => {
      const answer = jsonOf<{ grant: { usage: unknown[] }; pending: Array<JobJson & { position: number }> }>(await runCli(['queues', 'show', queue, '-p', project, '-o', 'json'], { apiKey: editorKey }));
      expect(answer.pending.map((pending) => [pending.position, pending.id])).toEqual([[1, waiter]]);
      expect(answer.pending[0].reason).toMatch(new RegExp(`^waiting: .*uses 0\\.2/0\\.2 cpu of its quota on queue ${queue}`));
      return answer;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(shown.grant.usage).toContainEqual({ resource: 'cpu', amount: '200' });
    const queueTable = await runCli(['queues', 'show', queue, '-p', project], { apiKey: editorKey });
    expect(queueTable.stdout).toMatch(/^RESOURCE +QUOTA +MAY BORROW +MAY LEND +IN USE$/m);
    expect(queueTable.stdout).toMatch(/^cpu +0\.2 cores +no limit +all +0\.2 cores$/m);
    expect(queueTable.stdout).toMatch(new RegExp(`^1 +${waiter} +waiter +100 +\\S+ +waiting: needs 1 replica x 0\\.2 cpu`, 'm'));

    const viewer = await seedUser(projectId, 'viewer', 'cli-jobs-viewer');
    const refused = await runCli(['jobs', 'cancel', waiter, '-p', project], { apiKey: viewer.apiKey });
    expect(refused.code).toBe(EXIT.permissionDenied);
    const cancelled = await runCli(['jobs', 'cancel', waiter, '-p', project], { apiKey: editorKey });
    expect(cancelled).toMatchObject({ code: 0, stdout: `Cancelled job ${waiter} (waiter).\n` });
    expect((await runCli(['jobs', 'cancel', holder, '-p', project], { apiKey: editorKey })).code).toBe(0);
    const cancelledLogs = await runCli(['jobs', 'logs', holder, '-f', '-p', project], { apiKey: editorKey });
    expect(cancelledLogs).toMatchObject({ code: EXIT.checkFailed, stdout: ' first\n', stderr: expect.stringMatching(new RegExp(`^trellis: job ${holder} cancelled: cancelled by \\S+\n$`)) });

    const failing = await runCli(['jobs', 'submit', '-f', job('failing', ['sh', '-c', 'echo broken >&2; exit 3']), '-q', queue, '-p', project, '--wait'], { apiKey: editorKey });
    expect(failing.code).toBe(EXIT.checkFailed);
    expect(failing.stderr).toMatch(/^trellis: job \S+ failed: /);
    const failedId = /job (\S+) failed/.exec(failing.stderr)?.[1] ?? '';
    expect((await runCli(['jobs', 'logs', failedId, '-p', project], { apiKey: editorKey })).code).toBe(EXIT.checkFailed);
    expect((await runCli(['jobs', 'cancel', failedId, '-p', project], { apiKey: editorKey })).code).toBe(EXIT.conflict);
    expect((await runCli(['jobs', 'show', 'no-such-job', '-p', project], { apiKey: editorKey })).code).toBe(EXIT.notFound);
  });

  it('lists the queues and the clusters', async () => {
    const { editorKey, queue } = await seedQueue('cli-jobs-lists', 1000);
    const queues = jsonOf<Array<{ name: string; clusters: Array<{ name: string }> }>>(await runCli(['queues', 'list', '-o', 'json'], { apiKey: editorKey }));
    expect(queues.find((entry) => entry.name === queue)?.clusters).toMatchObject([{ name: 'local' }]);
    const clusters = await runCli(['clusters', 'list'], { apiKey: editorKey });
    expect(clusters.stdout.split('\n')[0]).toMatch(/^NAME +PLUGIN +HEALTHY +CAPACITY +FREE$/);
    expect(clusters.stdout).toMatch(/^local +compute-local +yes +cpu \d/m);
  });
});

/** A project with an editor, and a queue of its own on the `local` cluster where it may use `cpuMillis` millicores and 1 GiB. */
async function seedQueue(name: string, cpuMillis: number): Promise<{ project: string; projectId: string; editorKey: string; queue: string }> {
  const { projectId, name: project } = await seedProject(name);
  const queue = seedName(name);
  const admin = platformClient();
  await admin.call('trellis.compute.v1.QueueService/CreateQueue', { queue: { name: queue, cluster: 'local' } });
  await admin.call('trellis.compute.v1.QueueService/SetGrant', {
    queue,
    projectId,
    quotas: [
      { resource: 'cpu', nominal: String(cpuMillis) },
      { resource: 'memory', nominal: String(2 ** 30) },
    ],
  });
  const { apiKey: editorKey } = await seedUser(projectId, 'editor', `${name}-editor`);
  return { project, projectId, editorKey, queue };
}

/** A `trellis` process whose output a spec reads as it comes (runCli waits for the end), as the editor of `apiKey`. */
function startCli(args: readonly string[], apiKey: string) {
  const { gateway } = sharedPlatform();
  const child = spawn(process.execPath, [resolve(__dirname, '../bin/trellis.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), TRELLIS_URL: gateway, TRELLIS_API_KEY: apiKey, TRELLIS_CONFIG_DIR: newConfigDir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const state = { exited: false };
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveExit) =>
    child.once('close', (code) => {
      state.exited = true;
      resolveExit({ code, stdout, stderr });
    }),
  );
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    exit,
    get exited() {
      return state.exited;
    },
    /** Resolves once standard output has `text`; rejects with what it printed if the process ends first. */
    stdoutContains(text: string): Promise<void> {
      return new Promise((resolveSeen, reject) => {
        const check = () => {
          if (!stdout.includes(text)) return;
          child.stdout.off('data', check);
          resolveSeen();
        };
        child.stdout.on('data', check);
        check();
        void exit.then((result) => (stdout.includes(text) ? resolveSeen() : reject(new Error(`trellis exited ${result.code} before printing ${JSON.stringify(text)}:\n${result.stderr}${result.stdout}`))));
      });
    },
    /** Ctrl-C. */
    interrupt(): void {
      child.kill('SIGINT');
    },
  };
}
