import { subject as asSubject } from '@casl/ability';
import { PermissionDeniedError } from '../errors';
import type { Action, AppAbility, SubjectKind } from './ability';
import type { Principal } from './principal';

/**
 * Who made the current call and what they may do. Handlers receive it with `@CurrentCaller()`
 * and check each resource they touch: `caller.assert('update', 'Run', run)`.
 */
export class Caller {
  constructor(
    /** The verified principal; undefined only on methods marked `@Public()`. */
    readonly principal: Principal | undefined,
    readonly ability: AppAbility,
    /** Id of this request, echoed in logs, events and error messages. */
    readonly requestId: string,
    /** The bearer token, forwarded when this call makes calls to other services. */
    readonly token: string | undefined,
  ) {}

  /** Whether the caller may do `action` to a `kind` resource with these fields (its `projectId`). */
  can(action: Action, kind: SubjectKind, fields: { projectId: string; orgId?: string }): boolean {
    return this.ability.can(action, asSubject(kind, { ...fields }) as never);
  }

  /** Throws PermissionDeniedError naming the action, kind and project unless the caller may. */
  assert(action: Action, kind: SubjectKind, fields: { projectId: string; orgId?: string }): void {
    if (!this.can(action, kind, fields)) {
      throw new PermissionDeniedError(
        `${this.principal?.id ?? 'anonymous'} may not ${action} ${kind} in project ${fields.projectId}`,
      );
    }
  }

  /**
   * The projects in which the caller may do `action` to `kind`, to narrow list queries;
   * `'all'` for an org admin within their org.
   */
  projectsWhere(action: Action, kind: SubjectKind): string[] | 'all' {
    if (this.principal?.orgAdmin) return 'all';
    return (this.principal?.bindings ?? [])
      .map((binding) => binding.projectId)
      .filter((projectId) => this.can(action, kind, { projectId }));
  }
}
