import { PermissionDeniedError, UnauthenticatedError } from '../errors';
import type { Action, AppAbility, SubjectKind } from './ability';
import { allows } from './permission-decisions';
import type { Principal } from './principal';

/** What identifies a resource to the rules: its project (and org, for org-level kinds), and its id. */
export interface ResourceFields {
  projectId: string;
  orgId?: string;
  id?: string;
  /** Its full resource name (`resourceName`), for the audit log, when it lives under another resource (a model's alias). */
  name?: string;
}

/** Where a call came from, as logs, errors and audit records name it. */
export interface CallOrigin {
  /** The id the client sent (`x-request-id`), or a new one. */
  readonly requestId: string;
  /** The client's address as the server saw it (`127.0.0.1:5123`), when known. */
  readonly clientAddress: string;
  /** The principal id the client named in `x-trellis-on-behalf-of`, whoever the client is (see `Caller.onBehalfOf`). */
  readonly onBehalfOf?: string;
}

/**
 * Who made the current call and what they may do. Handlers get it with `callerOf(metadata)`
 * and check each resource they touch: `caller.assert('update', 'Run', run)`.
 */
export class Caller {
  /** The resource last checked with `assert`: what the audit log names as this call's target. */
  target?: { kind: SubjectKind; projectId: string; id?: string; name?: string };
  /** Set once the call's change was audited inside its own transaction (see `AuditRecorder.recordIn`). */
  audited = false;

  constructor(
    /** The verified principal; undefined only on methods marked `@Public()`. */
    readonly principal: Principal | undefined,
    readonly ability: AppAbility,
    private readonly givenRequestId: string,
    /** The bearer token, forwarded when this call makes calls to other services. */
    readonly token: string | undefined,
    private readonly givenClientAddress: string,
    /** The gRPC method called (`package.Service/Method`) and the action it declared. */
    readonly call: { method: string; action: string } = { method: '', action: '' },
    private readonly givenOnBehalfOf?: string,
  ) {}

  /**
   * The user a service account acts for in this call (`x-trellis-on-behalf-of`), for the audit
   * log: a service doing work a user asked for (a registry copy) names them. Only a platform
   * service's claim counts (`Principal.platformService`); a user's or an org's own service
   * account's naming someone else is ignored, so nobody can attribute their calls to another.
   */
  get onBehalfOf(): string | undefined {
    return this.principal?.platformService ? this.givenOnBehalfOf : undefined;
  }

  /** Id of this request, echoed in logs, events and error messages. */
  get requestId(): string {
    return this.givenRequestId;
  }

  /** The client's network address as the server saw it. */
  get clientAddress(): string {
    return this.givenClientAddress;
  }

  /** The verified principal; throws UnauthenticatedError on a `@Public()` call that has none. */
  get authenticated(): Principal {
    if (!this.principal) throw new UnauthenticatedError('this call needs credentials: send `authorization: Bearer <token>`', { reason: 'CREDENTIALS_MISSING' });
    return this.principal;
  }

  /** Whether the caller may do `action` to a `kind` resource with these fields (its `projectId`). */
  can(action: Action, kind: SubjectKind, fields: ResourceFields): boolean {
    return allows(this.ability, action, kind, fields);
  }

  /**
   * Throws PermissionDeniedError naming the action, kind and project unless the caller may.
   * The resource checked becomes the call's audit target; pass its `id` when it has one.
   */
  assert(action: Action, kind: SubjectKind, fields: ResourceFields): void {
    this.target = { kind, projectId: fields.projectId, id: fields.id, name: fields.name };
    if (!this.can(action, kind, fields)) {
      throw new PermissionDeniedError(
        `${this.principal?.id ?? 'anonymous'} may not ${action} ${kind} in project ${fields.projectId}`,
        { reason: 'ROLE_MISSING', resource: `projects/${encodeURIComponent(fields.projectId)}` },
      );
    }
  }

  /**
   * Throws PermissionDeniedError `ORG_ADMIN_REQUIRED`, "<principal> may not <doing>: only org
   * admins may", unless the caller is an admin of its org: for what belongs to the org rather than
   * to a project (queues, plugin instances, the audit chain, signing keys). `resource`, when given,
   * becomes the call's audit target, refused or not, and the error names it.
   */
  assertOrgAdmin(doing: string, resource?: { kind: SubjectKind; name: string }): void {
    if (resource) this.target = { kind: resource.kind, projectId: '', name: resource.name };
    const principal = this.authenticated;
    if (principal.orgAdmin) return;
    throw new PermissionDeniedError(`${principal.id} may not ${doing}: only org admins may`, { reason: 'ORG_ADMIN_REQUIRED', resource: resource?.name });
  }

  /**
   * The projects in which the caller may do `action` to `kind`, to narrow list queries;
   * `'all'` for an org admin within their org.
   */
  projectsWhere(action: Action, kind: SubjectKind): string[] | 'all' {
    if (this.principal?.orgAdmin) return 'all';
    return this.boundProjectsWhere(action, kind);
  }

  /**
   * The projects named in the caller's token in which it may do `action` to `kind`. Services that
   * do not know which org a project belongs to narrow lists with this, never with `'all'`: an
   * org admin's token names every project of their org.
   */
  boundProjectsWhere(action: Action, kind: SubjectKind): string[] {
    return (this.principal?.bindings ?? []).map((binding) => binding.projectId).filter((projectId) => this.can(action, kind, { projectId }));
  }
}

/**
 * The Caller of a call the kit serves: its request id and client address are read from the call
 * (`origin`) only when something asks for them, which most calls that succeed never do.
 */
export class CallerOfCall extends Caller {
  constructor(
    principal: Principal | undefined,
    ability: AppAbility,
    private readonly origin: CallOrigin,
    token: string | undefined,
    call: { method: string; action: string },
  ) {
    super(principal, ability, '', token, '', call);
  }

  override get requestId(): string {
    return this.origin.requestId;
  }

  override get clientAddress(): string {
    return this.origin.clientAddress;
  }

  override get onBehalfOf(): string | undefined {
    return this.principal?.platformService ? this.origin.onBehalfOf : undefined;
  }
}
