import { Injectable } from '@nestjs/common';
import { Metrics, ScrapeReading } from '@trellis/platform';
import { Gauge } from 'prom-client';
import { HOLDING_STATES, type JobStateName } from '../jobs/job.entity';
import { QueueRepository } from './queue.repository';

/** The gauge's name in `/metrics`. */
export const QUEUE_JOBS_GAUGE = 'trellis_compute_queue_jobs';

/** The states counted: waiting, and holding quota. */
const COUNTED: readonly JobStateName[] = ['QUEUED', ...HOLDING_STATES];

/**
 * `trellis_compute_queue_jobs{queue,state}`: the jobs each queue holds that are waiting (`queued`)
 * or hold quota (`admitted`, `starting`, `running`), every queue with all four (0 when none). Read
 * from the database when scraped, so every replica reports the same figures whichever one admits,
 * through a `ScrapeReading` (at most one grouped read a second; a scrape waits for it at most 1 s;
 * no series while the database cannot be read).
 */
@Injectable()
export class QueueDepthMetrics {
  constructor(metrics: Metrics, repository: QueueRepository) {
    const reading = new ScrapeReading(() => repository.jobCounts(COUNTED));
    // A service started again in the same process (specs) replaces the gauge, which reads through the new repository.
    metrics.registry.removeSingleMetric(QUEUE_JOBS_GAUGE);
    new Gauge({
      name: QUEUE_JOBS_GAUGE,
      help: 'Jobs on a compute queue that wait (state queued) or hold quota (admitted, starting, running), by queue and state.',
      labelNames: ['queue', 'state'] as const,
      registers: [metrics.registry],
      async collect() {
        const counts = await reading.latest();
        this.reset();
        for (const { queue } of counts ?? []) for (const state of COUNTED) this.set({ queue, state: state.toLowerCase() }, 0);
        for (const { queue, state, jobs } of counts ?? []) if (state) this.set({ queue, state: state.toLowerCase() }, jobs);
      },
    });
  }
}
