import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { AuditEventSchema, Outcome } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Caller } from '../auth/caller';
import { excerpt, PermissionDeniedError, UnauthenticatedError, type GrpcStatusError } from '../errors';
import type { Outbox, OutboxEvent } from '../events';
import { MAX_STATUS_DETAILS } from '../grpc/grpc-status';
import type { Logger } from '../ops/logger';
import { auditResourceName } from './resource-name';

/** What one audited call did, as the kit saw it. */
export interface AuditedCall {
  actor: string;
  action: string;
  /** Full gRPC method, `package.Service/Method`. */
  method: string;
  /** The resource name of what the call acted on (see {@link auditResourceName}). */
  resource: string;
  projectId: string;
  requestId: string;
  clientAddress: string;
  /** The user a service account acted for (see `Caller.onBehalfOf`); absent when it acted for nobody. */
  onBehalfOf?: string;
}

/**
 * Longest text an audit event keeps of a field other than `resource` and `reason` (which keeps as
 * much as a status's details): ids and names fit, a caller's oversized value does not.
 */
const AUDIT_FIELD_LENGTH = 256;
/** Longest resource name an audit event keeps: a project's, a model's and an alias's names fit, as an audit filter's resource does. */
const AUDIT_RESOURCE_LENGTH = 1024;

/**
 * Writes audit events (`trellis.audit.v1.AuditEvent`) through a service's outbox on
 * `trellis.<service>.v1.audit.recorded`, so they reach governance even if NATS is down when the
 * call happens. The kit calls it for every mutating call that succeeds, every call a service
 * account makes on behalf of a user (reads too: such an account may read more than the user), and
 * every refused call (see {@link refusalOf}).
 */
export class AuditRecorder {
  constructor(
    private readonly service: string,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  /** Subject this service's audit events are published on. */
  get subject(): string {
    return `trellis.${this.service}.v1.audit.recorded`;
  }

  /** Records a call that changed something, in a transaction of its own. */
  succeeded(call: AuditedCall): Promise<void> {
    return this.dataSource.transaction((manager) => this.publish(manager, call, Outcome.SUCCEEDED, ''));
  }

  /**
   * Records the caller's change inside the handler's own transaction (`manager`), so the record
   * exists exactly when the change does; the kit then does not record the call again. `created`
   * names what the call created, if the record should name it (see {@link CreatedResource}).
   */
  async recordIn(manager: EntityManager, caller: Caller, created?: CreatedResource): Promise<void> {
    await this.publish(manager, changeOf(caller, created), Outcome.SUCCEEDED, '');
    caller.audited = true;
  }

  /**
   * Records several callers' changes, made in one transaction (`manager`: calls written together),
   * in one write to the outbox: as `recordIn` for each.
   */
  async recordAllIn(manager: EntityManager, changes: ReadonlyArray<{ caller: Caller; created?: CreatedResource }>): Promise<void> {
    await this.outbox.publishAll(
      manager,
      changes.map(({ caller, created }) => this.eventOf(changeOf(caller, created), Outcome.SUCCEEDED, '')),
    );
    for (const { caller } of changes) caller.audited = true;
  }

  /** Records a change made outside any call (an operator's command on the database) inside its transaction (`manager`). */
  recordChangeIn(manager: EntityManager, change: AuditedCall): Promise<void> {
    return this.publish(manager, change, Outcome.SUCCEEDED, '');
  }

  /** Records a refused call (see {@link refusalOf}) as denied, with `reason`; never throws. */
  async denied(call: AuditedCall, reason: string): Promise<void> {
    try {
      await this.dataSource.transaction((manager) => this.publish(manager, call, Outcome.DENIED, reason));
    } catch (error) {
      this.logger.error({ err: error, requestId: call.requestId }, 'could not record a denied call in the audit log');
    }
  }

  private async publish(manager: EntityManager, call: AuditedCall, outcome: Outcome, reason: string): Promise<void> {
    await this.outbox.publish(manager, this.eventOf(call, outcome, reason));
  }

  private eventOf(call: AuditedCall, outcome: Outcome, reason: string): OutboxEvent<typeof AuditEventSchema> {
    const kept = (text: string) => excerpt(text, AUDIT_FIELD_LENGTH);
    const event = create(AuditEventSchema, {
      id: randomUUID(),
      service: this.service,
      actor: kept(call.actor),
      action: kept(call.action),
      method: kept(call.method),
      resource: excerpt(call.resource, AUDIT_RESOURCE_LENGTH),
      projectId: kept(call.projectId),
      outcome,
      reason: excerpt(reason, MAX_STATUS_DETAILS),
      requestId: kept(call.requestId),
      eventTime: timestampNow(),
      clientAddress: kept(call.clientAddress),
      onBehalfOf: kept(call.onBehalfOf ?? ''),
    });
    return {
      subject: this.subject,
      schema: AuditEventSchema,
      message: event,
      projectId: event.projectId || undefined,
      actor: event.actor || undefined,
      requestId: event.requestId,
    };
  }
}

/**
 * A resource a call created after its permission check (its id, and its project when the resource
 * is one; its full `name` when it lives under another resource); `kind` and `action`, a change of
 * another kind than the call declared (a read that creates what it reads on first use).
 */
export interface CreatedResource {
  id: string;
  projectId?: string;
  name?: string;
  kind?: string;
  action?: string;
}

/** The change a caller made, as its audit record names it. */
function changeOf(caller: Caller, created: CreatedResource | undefined): AuditedCall {
  const target = caller.target;
  const projectId = created?.projectId ?? target?.projectId ?? '';
  const named = created ? { kind: created.kind ?? target?.kind ?? '', projectId, id: created.id, name: created.name } : { kind: '', projectId, ...target };
  return {
    actor: caller.principal?.id ?? '',
    action: created?.action ?? caller.call.action,
    method: caller.call.method,
    resource: auditResourceName(named),
    projectId,
    requestId: caller.requestId,
    clientAddress: caller.clientAddress,
    onBehalfOf: caller.onBehalfOf,
  };
}

/**
 * Why the audit log records a failed call as denied, or undefined if it does not: a call refused
 * for want of credentials or permission, and one answered NOT_FOUND, since services answer so for
 * another project's resources, which must look missing rather than forbidden. A probe of other
 * projects' ids thus leaves a trace; a lookup of something that really is missing reads the same
 * to the caller and is recorded the same way.
 */
export function refusalOf(exception: unknown, answer: GrpcStatusError): string | undefined {
  if (exception instanceof UnauthenticatedError || exception instanceof PermissionDeniedError) return exception.message;
  return answer.code === status.NOT_FOUND ? `NOT_FOUND: ${answer.details}` : undefined;
}
