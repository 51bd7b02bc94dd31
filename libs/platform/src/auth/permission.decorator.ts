import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { AuditInterceptor } from '../audit/audit.interceptor';
import type { Action, SubjectKind } from './ability';

/** Metadata key under which a handler's declared permission is kept. */
export const PERMISSION_KEY = 'trellis:permission';

/**
 * What a handler declares it needs: an action on a resource kind (checked against the caller's
 * roles), the same with `anyRole` (any authenticated principal; the handler decides, as for a
 * user's own API keys), or nothing (public).
 */
export type PermissionRequirement = { action: Action; kind: SubjectKind; anyRole?: true } | { public: true };

/** Options of `@Requires`. */
export interface RequiresOptions {
  /**
   * false for high-volume writes whose records would drown the audit log (metric points): the
   * resource's creation, end and deletion stay audited. Default true for any action but `read`.
   */
  audit?: boolean;
}

/**
 * Declares the permission a gRPC handler needs. The caller must hold `action` on `kind` in at
 * least one project to get past the kit; the handler then checks the resource's own project.
 * Every handler must declare one: a service with an undeclared method refuses to start.
 * A handler that changes anything (any action but `read`) is audited when it succeeds, unless
 * it opts out with `{ audit: false }`.
 */
export const Requires = (action: Action, kind: SubjectKind, options: RequiresOptions = {}) => {
  const declare = SetMetadata(PERMISSION_KEY, { action, kind } satisfies PermissionRequirement);
  const audited = options.audit ?? action !== 'read';
  return audited ? applyDecorators(declare, UseInterceptors(AuditInterceptor)) : declare;
};

/**
 * Declares a handler any authenticated principal may call whatever its roles, because the
 * handler itself decides (a user managing their own API keys). Audited like `@Requires`.
 */
export const Authenticated = (action: Action, kind: SubjectKind) => {
  const declare = SetMetadata(PERMISSION_KEY, { action, kind, anyRole: true } satisfies PermissionRequirement);
  return action === 'read' ? declare : applyDecorators(declare, UseInterceptors(AuditInterceptor));
};

/** Marks a handler that answers without a token (only credential exchange should need this). */
export const Public = () => SetMetadata(PERMISSION_KEY, { public: true } satisfies PermissionRequirement);
