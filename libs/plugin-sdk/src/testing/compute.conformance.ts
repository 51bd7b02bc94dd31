import { randomBytes } from 'node:crypto';
import { type ComputeBackend, FINAL_JOB_STATES, type JobSpec, type JobState, type JobStatus } from '../contracts';

/** Makes a backend for one test; called before every test of the suite. */
export type ComputeFactory = () => Promise<ComputeBackend> | ComputeBackend;

/**
 * Jobs the suite submits, written for the backend under test (a command for compute-local and
 * Slurm, an image for Kubernetes). The suite adds labels of its own to each.
 */
export interface ComputeConformanceJobs {
  /** A job that writes `line` as one line to stdout and exits 0 within seconds (`echo <line>`). */
  succeeding(line: string): JobSpec;
  /** A job that exits with code 3 within seconds (`sh -c 'exit 3'`). */
  failing(): JobSpec;
  /** A job that keeps running until it is cancelled (`sleep 3600`). */
  running(): JobSpec;
  /**
   * A job this backend cannot run (an image for compute-local): when given, the backend must have
   * `whyCannotRun`, which must refuse it with a sentence, and `submit` must throw a `TypeError` with
   * that sentence and start nothing.
   */
  unrunnable?(): JobSpec;
}

/**
 * The compute contract's conformance suite (v1). A compute plugin's spec calls it with a factory
 * of backends and the jobs to submit; it uses jest's globals. Every job it submits carries a label
 * unique to the test run, so a shared backend (a Slurm or Kubernetes cluster) may hold other jobs;
 * jobs still running at the end of a test are cancelled. It waits on `watch`, never on a timer.
 *
 * @example
 * describeComputeConformance('compute-local', () => plugin.create(createTestContext(), {}), {
 *   succeeding: (line) => ({ name: 'ok', command: ['echo', line], resources: { cpus: 1, memoryBytes: 2 ** 26 } }),
 *   failing: () => ({ name: 'fails', command: ['sh', '-c', 'exit 3'], resources: { cpus: 1, memoryBytes: 2 ** 26 } }),
 *   running: () => ({ name: 'runs', command: ['sleep', '3600'], resources: { cpus: 1, memoryBytes: 2 ** 26 } }),
 * });
 */
export function describeComputeConformance(name: string, factory: ComputeFactory, jobs: ComputeConformanceJobs): void {
  describe(`compute conformance (v1): ${name}`, () => {
    const run = `conformance-${randomBytes(6).toString('hex')}`;
    let backend: ComputeBackend;
    let submitted: string[];
    let keys = 0;

    /** A fresh idempotency key, unique to this run. */
    const key = () => `${run}:${++keys}`;
    /** `spec` with this run's label and `labels`. */
    const labelled = (spec: JobSpec, labels: Record<string, string> = {}): JobSpec => ({ ...spec, labels: { ...spec.labels, 'trellis-conformance': run, ...labels } });
    const submit = async (spec: JobSpec, idempotencyKey = key()) => {
      const { jobId } = await backend.submit(labelled(spec), { idempotencyKey });
      submitted.push(jobId);
      return jobId;
    };
    /** Every status `watch` gives until it ends. */
    const watchAll = async (jobId: string) => {
      const seen: JobStatus[] = [];
      for await (const status of backend.watch(jobId)) seen.push(status);
      return seen;
    };
    const ids = (list: { jobId: string }[]) => list.map((j) => j.jobId).sort();

    beforeEach(async () => {
      backend = await factory();
      submitted = [];
    });

    afterEach(async () => {
      for (const jobId of submitted) await backend.cancel(jobId).catch(() => undefined);
      await backend.close?.();
    });

    describe('capacity', () => {
      it('reports CPUs, memory and GPUs by type with the memory of each', async () => {
        const capacity = await backend.capacity();
        expect(capacity.total.cpus).toBeGreaterThan(0);
        expect(capacity.total.memoryBytes).toBeGreaterThan(0);
        for (const [type, pool] of Object.entries(capacity.total.gpus)) {
          expect(type).not.toBe('');
          expect(Number.isInteger(pool.count) && pool.count >= 0).toBe(true);
          expect(pool.memoryBytes).toBeGreaterThan(0);
        }
        if (capacity.available) {
          expect(capacity.available.cpus).toBeLessThanOrEqual(capacity.total.cpus);
          expect(capacity.available.memoryBytes).toBeLessThanOrEqual(capacity.total.memoryBytes);
          for (const [type, pool] of Object.entries(capacity.available.gpus)) expect(pool.count).toBeLessThanOrEqual(capacity.total.gpus[type]?.count ?? 0);
        }
      });
    });

    describe('submit and watch', () => {
      it('runs a job to succeeded, with exit code 0 and its times, and ends the watch there', async () => {
        const jobId = await submit(jobs.succeeding('hello from the suite'));
        const seen = await watchAll(jobId);
        const last = seen[seen.length - 1];
        expect(last).toMatchObject({ jobId, state: 'succeeded', exitCode: 0 });
        expect(last.finishedAt).toBeInstanceOf(Date);
        if (last.startedAt) expect(last.finishedAt?.getTime()).toBeGreaterThanOrEqual(last.startedAt.getTime());
        expect(await backend.status(jobId)).toMatchObject({ jobId, state: 'succeeded', exitCode: 0 });
      });

      it('moves only forward: pending, running, then one final state, each state once', async () => {
        const seen = (await watchAll(await submit(jobs.succeeding('forward')))).map((s) => s.state);
        const order: JobState[] = ['pending', 'running', 'succeeded'];
        expect(seen).toEqual([...new Set(seen)]);
        expect(seen.map((state) => order.indexOf(state))).toEqual([...seen.map((state) => order.indexOf(state))].sort());
        expect(seen.filter((state) => FINAL_JOB_STATES.includes(state))).toEqual(['succeeded']);
      });

      it('reports a failing job as failed with its exit code', async () => {
        const jobId = await submit(jobs.failing());
        const seen = await watchAll(jobId);
        expect(seen[seen.length - 1]).toMatchObject({ jobId, state: 'failed', exitCode: 3 });
      });

      it('watches a final job as its final status once, then ends', async () => {
        const jobId = await submit(jobs.succeeding('done already'));
        await watchAll(jobId);
        expect((await watchAll(jobId)).map((s) => s.state)).toEqual(['succeeded']);
      });

      it('starts a watch with the current state', async () => {
        const jobId = await submit(jobs.running());
        const first = await firstOf(backend.watch(jobId));
        expect(first.jobId).toBe(jobId);
        expect(['pending', 'running']).toContain(first.state);
      });

      it('ends a watch without an error when its signal aborts', async () => {
        const jobId = await submit(jobs.running());
        const controller = new AbortController();
        const seen: JobState[] = [];
        for await (const status of backend.watch(jobId, { signal: controller.signal })) {
          seen.push(status.state);
          controller.abort();
        }
        expect(seen).toHaveLength(1);
      });
    });

    describe('idempotency keys', () => {
      it('returns the first job for a key used again, and starts nothing new', async () => {
        const idempotencyKey = key();
        const spec = labelled(jobs.succeeding('once'), { case: 'idempotent' });
        const first = await backend.submit(spec, { idempotencyKey });
        submitted.push(first.jobId);
        const again = await backend.submit(spec, { idempotencyKey });
        expect(again.jobId).toBe(first.jobId);
        expect(ids(await backend.list({ labels: { 'trellis-conformance': run, case: 'idempotent' } }))).toEqual([first.jobId]);
      });

      it('keeps a key taken after its job ended', async () => {
        const idempotencyKey = key();
        const jobId = await submit(jobs.succeeding('ended'), idempotencyKey);
        await watchAll(jobId);
        expect((await backend.submit(labelled(jobs.succeeding('ended')), { idempotencyKey })).jobId).toBe(jobId);
      });

      it('starts separate jobs for separate keys', async () => {
        const a = await submit(jobs.succeeding('a'));
        const b = await submit(jobs.succeeding('b'));
        expect(a).not.toBe(b);
      });

      it.each([
        ['empty', ''],
        ['over 128 characters', 'x'.repeat(129)],
        ['with a space', 'has space'],
        ['with a slash', 'slash/inside'],
        ['with a non-ASCII letter', 'clé'],
      ])('refuses a key %s with a TypeError naming idempotencyKey, starting nothing', async (_why, bad) => {
        const spec = labelled(jobs.succeeding('refused'), { case: 'bad-key' });
        await expect(backend.submit(spec, { idempotencyKey: bad })).rejects.toThrow(TypeError);
        await expect(backend.submit(spec, { idempotencyKey: bad })).rejects.toThrow(/idempotencyKey/);
        expect(await backend.list({ labels: { 'trellis-conformance': run, case: 'bad-key' } })).toEqual([]);
      });

      it('accepts a key of 128 characters from the whole allowed set', async () => {
        const long = `${run}.A-Z_a:z`.padEnd(128, '9');
        expect(await submit(jobs.succeeding('long key'), long)).toEqual(expect.any(String));
      });
    });

    describe('list', () => {
      it('lists the jobs whose labels include all the given ones, with their status and labels', async () => {
        const a = await backend.submit(labelled(jobs.succeeding('a'), { team: 'vision', role: 'train' }), { idempotencyKey: key() });
        const b = await backend.submit(labelled(jobs.running(), { team: 'vision', role: 'eval' }), { idempotencyKey: key() });
        const c = await backend.submit(labelled(jobs.succeeding('c'), { team: 'speech', role: 'train' }), { idempotencyKey: key() });
        submitted.push(a.jobId, b.jobId, c.jobId);

        const vision = await backend.list({ labels: { 'trellis-conformance': run, team: 'vision' } });
        expect(ids(vision)).toEqual([a.jobId, b.jobId].sort());
        const listedB = vision.find((job) => job.jobId === b.jobId);
        expect(listedB?.labels).toMatchObject({ 'trellis-conformance': run, team: 'vision', role: 'eval' });
        expect(['pending', 'running']).toContain(listedB?.state);

        expect(ids(await backend.list({ labels: { 'trellis-conformance': run, role: 'train' } }))).toEqual([a.jobId, c.jobId].sort());
        expect(ids(await backend.list({ labels: { 'trellis-conformance': run, team: 'vision', role: 'train' } }))).toEqual([a.jobId]);
      });

      it('matches label values exactly, not as prefixes', async () => {
        await submit(labelled(jobs.succeeding('x'), { team: 'vision-research', case: 'exact' }));
        expect(await backend.list({ labels: { 'trellis-conformance': run, case: 'exact', team: 'vision' } })).toEqual([]);
        expect(await backend.list({ labels: { 'trellis-conformance': `${run}-other` } })).toEqual([]);
      });

      it('lists a job that has ended, in its final state', async () => {
        const jobId = await submit(labelled(jobs.failing(), { case: 'ended' }));
        await watchAll(jobId);
        expect(await backend.list({ labels: { 'trellis-conformance': run, case: 'ended' } })).toEqual([expect.objectContaining({ jobId, state: 'failed', exitCode: 3 })]);
      });
    });

    describe('cancel', () => {
      it('stops a running job: the watch ends on cancelled', async () => {
        const jobId = await submit(jobs.running());
        const watching = watchAll(jobId);
        await backend.cancel(jobId);
        const seen = await watching;
        expect(seen[seen.length - 1]).toMatchObject({ jobId, state: 'cancelled' });
        expect((await backend.status(jobId)).state).toBe('cancelled');
      });

      it('succeeds again for a cancelled job', async () => {
        const jobId = await submit(jobs.running());
        await backend.cancel(jobId);
        await watchAll(jobId);
        await expect(backend.cancel(jobId)).resolves.toBeUndefined();
        expect((await backend.status(jobId)).state).toBe('cancelled');
      });

      it('succeeds for a job that already succeeded, which stays succeeded', async () => {
        const jobId = await submit(jobs.succeeding('finished first'));
        await watchAll(jobId);
        await expect(backend.cancel(jobId)).resolves.toBeUndefined();
        expect(await backend.status(jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });
      });
    });

    describe('logs', () => {
      it("gives a finished job's output line, from stdout of replica 0", async () => {
        const jobId = await submit(jobs.succeeding('a line to find'));
        await watchAll(jobId);
        const lines = await collect(backend.logs(jobId));
        expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', replica: 0, line: 'a line to find' }));
        for (const line of lines) expect(line.time).toBeInstanceOf(Date);
      });

      it('follows a job until it is final, then ends', async () => {
        const jobId = await submit(jobs.succeeding('followed'));
        const lines = await collect(backend.logs(jobId, { follow: true }));
        expect(lines.map((l) => l.line)).toContain('followed');
        expect((await backend.status(jobId)).state).toBe('succeeded');
      });
    });

    describe('whyCannotRun', () => {
      it("says nothing against the suite's own jobs, where the backend has the method", () => {
        for (const job of [jobs.succeeding('runnable'), jobs.failing(), jobs.running()]) expect(backend.whyCannotRun?.(labelled(job))).toBeUndefined();
      });

      // Only for a backend that refuses some kind of job: one that runs everything has no such job to give.
      const unrunnable = jobs.unrunnable;
      if (unrunnable) it('refuses a job it cannot run with a sentence, and submit throws a TypeError with it, starting nothing', async () => {
        const spec = labelled(unrunnable(), { case: 'unrunnable' });
        expect(typeof backend.whyCannotRun).toBe('function');
        const why = backend.whyCannotRun?.(spec);
        expect(why).toEqual(expect.stringMatching(/\S/));
        const refused = backend.submit(spec, { idempotencyKey: key() });
        await expect(refused).rejects.toThrow(TypeError);
        await expect(refused).rejects.toThrow(why as string);
        expect(await backend.list({ labels: { 'trellis-conformance': run, case: 'unrunnable' } })).toEqual([]);
      });
    });

    describe('unknown job ids', () => {
      const notFound = { name: 'JobNotFoundError', code: 'JOB_NOT_FOUND' };
      const unknown = `no-such-job-${randomBytes(4).toString('hex')}`;

      it('throws JobNotFoundError from status, cancel, watch and logs', async () => {
        await expect(backend.status(unknown)).rejects.toMatchObject(notFound);
        await expect(backend.cancel(unknown)).rejects.toMatchObject(notFound);
        await expect(collect(() => backend.watch(unknown))).rejects.toMatchObject(notFound);
        await expect(collect(() => backend.logs(unknown))).rejects.toMatchObject(notFound);
      });
    });
  });
}

/** Every item of `items` (or of what `items()` returns: a call that throws at once rejects). */
async function collect<T>(items: AsyncIterable<T> | (() => AsyncIterable<T>)): Promise<T[]> {
  const all: T[] = [];
  for await (const item of typeof items === 'function' ? items() : items) all.push(item);
  return all;
}

async function firstOf<T>(items: AsyncIterable<T>): Promise<T> {
  for await (const item of items) return item;
  throw new Error('the iterable ended without an item');
}
