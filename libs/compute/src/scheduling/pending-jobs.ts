import type { JobEntity } from '../jobs/job.entity';
import type { JobRepository } from '../jobs/job.repository';

/**
 * The queued jobs the admission loop decides over, kept between its passes: read in full at the
 * first pass and whenever the last full read is older than `fullReadMs`, and in between only the
 * jobs named as changed. A change nobody named (another replica's submission or cancel) is seen at
 * the next full read, as the loop's interval already bounded it before.
 */
export class PendingJobs {
  private readonly jobs = new Map<string, JobEntity>();
  private changed = new Set<string>();
  /** When the last full read began (`performance.now()`); -Infinity: never, or dropped. */
  private fullReadAt = -Infinity;

  constructor(
    private readonly repository: JobRepository,
    private readonly fullReadMs: number,
  ) {}

  /** Brings the set up to date: a full read when due, else the jobs named since the last refresh. Returns whether it read in full. */
  async refresh(changed: readonly string[]): Promise<boolean> {
    for (const id of changed) this.changed.add(id);
    if (performance.now() - this.fullReadAt >= this.fullReadMs) {
      await this.readAll();
      return true;
    }
    if (this.changed.size === 0) return false;
    const ids = [...this.changed];
    this.changed = new Set();
    const queued = await this.repository.queuedAmong(ids);
    for (const id of ids) this.jobs.delete(id);
    for (const job of queued) this.jobs.set(job.id, job);
    return false;
  }

  /** Reads every queued job now. */
  async readAll(): Promise<void> {
    const started = performance.now();
    this.changed = new Set();
    const queued = await this.repository.queued();
    this.jobs.clear();
    for (const job of queued) this.jobs.set(job.id, job);
    this.fullReadAt = started;
  }

  /** Makes the next refresh a full read (a new leadership, a failed pass). */
  drop(): void {
    this.fullReadAt = -Infinity;
  }

  /** Queued jobs whose backoff is over at `now`. */
  due(now: number): JobEntity[] {
    const due: JobEntity[] = [];
    for (const job of this.jobs.values()) if (job.notBefore <= now) due.push(job);
    return due;
  }

  /** Jobs that left the queue by this replica's own decision. */
  remove(ids: Iterable<string>): void {
    for (const id of ids) this.jobs.delete(id);
  }

  /** Jobs this replica's own decision changed: read again at the next refresh. */
  markChanged(ids: Iterable<string>): void {
    for (const id of ids) this.changed.add(id);
  }
}
