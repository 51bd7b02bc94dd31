import { NotFoundError, resourceName } from '@trellis/platform';

/** NOT_FOUND (PROJECT_NOT_FOUND) for a project that does not exist or that the caller may not read. */
export function projectNotFound(projectId: string, message = `project ${projectId} not found`): NotFoundError {
  return new NotFoundError(message, { reason: 'PROJECT_NOT_FOUND', resource: resourceName(['projects', projectId]) });
}

/** NOT_FOUND (PRINCIPAL_NOT_FOUND) for a user or service account that is not in the org. */
export function principalNotFound(principalId: string): NotFoundError {
  return new NotFoundError(`user or service account ${principalId} not found`, { reason: 'PRINCIPAL_NOT_FOUND', resource: resourceName(['principals', principalId]) });
}
