import { SetMetadata } from '@nestjs/common';
import type { Action, SubjectKind } from './ability';

/** Metadata key under which a handler's declared permission is kept. */
export const PERMISSION_KEY = 'trellis:permission';

/** What a handler declares it needs: an action on a resource kind, or nothing (public). */
export type PermissionRequirement = { action: Action; kind: SubjectKind } | { public: true };

/**
 * Declares the permission a gRPC handler needs. The caller must hold `action` on `kind` in at
 * least one project to get past the kit; the handler then checks the resource's own project.
 * Every handler must declare one: a service with an undeclared method refuses to start.
 */
export const Requires = (action: Action, kind: SubjectKind) =>
  SetMetadata(PERMISSION_KEY, { action, kind } satisfies PermissionRequirement);

/** Marks a handler that answers without a token (only credential exchange should need this). */
export const Public = () => SetMetadata(PERMISSION_KEY, { public: true } satisfies PermissionRequirement);
