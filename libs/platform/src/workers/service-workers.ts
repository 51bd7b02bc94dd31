import type { Type } from '@nestjs/common';
import type { DatabaseConfig } from '../persistence';
import type { KitLogger } from '../persistence/logger';
import { AdvisoryLockLeadership } from './advisory-lock-leadership';
import { soleLeadership } from './leadership';
import type { Worker } from './worker';
import { WorkerRunner } from './worker-runner';

/** The workers of a running service, and how to stop them. */
export interface RunningWorkers {
  /** Aborts every worker and resolves once each has returned and given up its lease. */
  stop(): Promise<void>;
}

/**
 * Starts each of a service's workers (`get` resolves the provider in the service's container):
 * on PostgreSQL each waits for its advisory lock, so one replica of the service runs it; on
 * SQLite, which one process owns, each runs at once.
 */
export function startWorkers(options: {
  service: string;
  workers: readonly Type<Worker>[];
  get: (type: Type<Worker>) => Worker;
  database: DatabaseConfig;
  logger: KitLogger;
}): RunningWorkers {
  const runners = options.workers.map((type) => {
    const name = `${options.service}:${type.name}`;
    const leadership = options.database.type === 'postgres' ? new AdvisoryLockLeadership(options.database.url, name, options.logger) : soleLeadership;
    return new WorkerRunner(name, workerInstance(options.get, type, options.service), leadership, options.logger);
  });
  for (const runner of runners) runner.start();
  return { stop: async () => void (await Promise.all(runners.map((runner) => runner.stop()))) };
}

function workerInstance(get: (type: Type<Worker>) => Worker, type: Type<Worker>, service: string): Worker {
  let worker: Worker;
  try {
    worker = get(type);
  } catch {
    throw new Error(`${service} declares the worker ${type.name}, which its module does not provide: add it to the module's providers`);
  }
  if (typeof worker?.run !== 'function') throw new Error(`${service}'s worker ${type.name} has no run(signal) method`);
  return worker;
}
