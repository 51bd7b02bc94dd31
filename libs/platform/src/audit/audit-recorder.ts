import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { AuditEventSchema, Outcome } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Outbox } from '../events';
import type { Logger } from '../ops/logger';

/** What one audited call did, as the kit saw it. */
export interface AuditedCall {
  actor: string;
  action: string;
  /** Full gRPC method, `package.Service/Method`. */
  method: string;
  /** `Kind` or `Kind/<id>`. */
  resource: string;
  projectId: string;
  requestId: string;
  clientAddress: string;
}

/**
 * Writes audit events (`trellis.audit.v1.AuditEvent`) through a service's outbox on
 * `trellis.<service>.v1.audit.recorded`, so they reach governance even if NATS is down when the
 * call happens. The kit calls it for every mutating call that succeeds and every denied call.
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

  /** Records a call that changed something. */
  succeeded(call: AuditedCall): Promise<void> {
    return this.record(call, Outcome.SUCCEEDED, '');
  }

  /** Records a call refused for want of credentials or permission; never throws. */
  async denied(call: AuditedCall, reason: string): Promise<void> {
    try {
      await this.record(call, Outcome.DENIED, reason);
    } catch (error) {
      this.logger.error({ err: error, requestId: call.requestId }, 'could not record a denied call in the audit log');
    }
  }

  private async record(call: AuditedCall, outcome: Outcome, reason: string): Promise<void> {
    const event = create(AuditEventSchema, {
      id: randomUUID(),
      service: this.service,
      actor: call.actor,
      action: call.action,
      method: call.method,
      resource: call.resource,
      projectId: call.projectId,
      outcome,
      reason,
      requestId: call.requestId,
      occurredAt: timestampNow(),
      clientAddress: call.clientAddress,
    });
    await this.dataSource.transaction((manager) =>
      this.outbox.publish(manager, {
        subject: this.subject,
        schema: AuditEventSchema,
        message: event,
        projectId: call.projectId || undefined,
        actor: call.actor || undefined,
        requestId: call.requestId,
      }),
    );
  }
}
