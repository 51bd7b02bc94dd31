import type { JobEntity, JobStateName } from '../jobs/job.entity';
import type { JobRepository } from '../jobs/job.repository';
import { PendingJobs } from './pending-jobs';

/** The jobs table as the two reads see it: a job is queued or not. */
class JobsTable {
  readonly states = new Map<string, JobStateName>();
  readonly notBefore = new Map<string, number>();

  set(id: string, state: JobStateName, notBefore = 0): void {
    this.states.set(id, state);
    this.notBefore.set(id, notBefore);
  }

  queued(): Promise<JobEntity[]> {
    return this.queuedAmong([...this.states.keys()]);
  }

  queuedAmong(ids: readonly string[]): Promise<JobEntity[]> {
    const queued = ids.filter((id) => this.states.get(id) === 'QUEUED');
    return Promise.resolve(queued.map((id) => ({ id, notBefore: this.notBefore.get(id) ?? 0 }) as JobEntity));
  }
}

const FULL_READ_MS = 5000;
const ids = (pending: PendingJobs, now = 0) => pending.due(now).map((job) => job.id).sort();

describe('PendingJobs', () => {
  let table: JobsTable;
  let pending: PendingJobs;

  beforeEach(async () => {
    jest.useFakeTimers({ now: 0 });
    table = new JobsTable();
    table.set('a', 'QUEUED');
    table.set('b', 'RUNNING');
    pending = new PendingJobs(table as unknown as JobRepository, FULL_READ_MS);
    expect(await pending.refresh([])).toBe(true);
  });

  afterEach(() => jest.useRealTimers());

  it('reads every queued job at its first refresh', () => {
    expect(ids(pending)).toEqual(['a']);
  });

  it('adds a job submitted since the last pass when it is named', async () => {
    table.set('c', 'QUEUED');
    expect(await pending.refresh(['c'])).toBe(false);
    expect(ids(pending)).toEqual(['a', 'c']);
  });

  it('drops a cancelled job when it is named', async () => {
    table.set('a', 'CANCELLED');
    await pending.refresh(['a']);
    expect(ids(pending)).toEqual([]);
  });

  it('leaves a job in backoff out until its time', async () => {
    table.set('a', 'QUEUED', 100);
    await pending.refresh(['a']);
    expect(ids(pending, 99)).toEqual([]);
    expect(ids(pending, 100)).toEqual(['a']);
  });

  it('reads again the jobs its own decisions changed, and forgets those it admitted', async () => {
    table.set('b', 'QUEUED');
    table.set('a', 'ADMITTED');
    pending.remove(['a']);
    pending.markChanged(['b']);
    await pending.refresh([]);
    expect(ids(pending)).toEqual(['b']);
  });

  it('corrects a change nobody named at its next full read, once the last is fullReadMs old', async () => {
    table.set('a', 'CANCELLED');
    table.set('c', 'QUEUED');
    expect(await pending.refresh([])).toBe(false);
    expect(ids(pending)).toEqual(['a']);
    jest.advanceTimersByTime(FULL_READ_MS);
    expect(await pending.refresh([])).toBe(true);
    expect(ids(pending)).toEqual(['c']);
  });

  it('reads in full after being dropped (a new leadership, a failed pass)', async () => {
    table.set('c', 'QUEUED');
    pending.drop();
    expect(await pending.refresh([])).toBe(true);
    expect(ids(pending)).toEqual(['a', 'c']);
  });
});
