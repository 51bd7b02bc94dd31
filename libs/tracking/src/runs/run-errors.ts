import { FailedPreconditionError, NotFoundError, resourceName } from '@trellis/platform';

/** NOT_FOUND (RUN_NOT_FOUND), in MLflow's words for a missing run. */
export function runNotFound(runId: string): NotFoundError {
  return new NotFoundError(`Run with id=${runId} not found`, { reason: 'RUN_NOT_FOUND', resource: resourceName(['runs', runId]) });
}

/** FAILED_PRECONDITION (RUN_NOT_ACTIVE): the run is deleted, so it takes nothing new; `message` says what was refused. */
export function runNotActive(runId: string, message: string): FailedPreconditionError {
  return new FailedPreconditionError(message, { reason: 'RUN_NOT_ACTIVE', resource: resourceName(['runs', runId]) });
}
