import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { CallContext } from '../auth/call-context';
import type { AuditedCall } from './audit-recorder';
import { auditResourceName } from './resource-name';

/**
 * The mark of an audited gRPC handler: `@Requires` attaches it (with `UseInterceptors`) to every
 * handler whose action is not `read`, unless it opts out. The kit's gRPC transport reads the mark
 * when the server starts and audits such a call once it has succeeded, before its answer goes out
 * (streams: before their first message, or when they complete), unless the handler already
 * recorded it in its own transaction (`recordIn`). Nest never runs it as an interceptor.
 */
export class AuditInterceptor {}

/** Whether `handler` carries the audit mark (see {@link AuditInterceptor}). */
export function isAudited(handler: object): boolean {
  const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[];
  return interceptors.includes(AuditInterceptor);
}

/** What the audit log says about a call, from what the kit knows of it. */
export function auditedCall(call: CallContext, method: string): AuditedCall {
  const target = call.caller?.target ?? { kind: call.required?.kind ?? '', projectId: '' };
  return {
    actor: call.caller?.principal?.id ?? '',
    action: call.required?.action ?? '',
    method,
    resource: auditResourceName(target),
    projectId: target.projectId,
    requestId: call.requestId,
    clientAddress: call.clientAddress,
    onBehalfOf: call.caller?.onBehalfOf,
  };
}

/**
 * Whether the kit audits this call once it succeeds: a method with the audit mark, or any call,
 * reads included, that a service account makes on behalf of a user.
 */
export function auditsCall(audited: boolean, call: CallContext): boolean {
  return audited || call.caller?.onBehalfOf !== undefined;
}
