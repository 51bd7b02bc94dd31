import type { Metadata } from '@grpc/grpc-js';
import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { concatMap, tap, type Observable } from 'rxjs';
import { callContextOf, type CallContext } from '../auth/call-context';
import { grpcMethodOf } from '../grpc/method-path';
import { AuditRecorder, type AuditedCall } from './audit-recorder';

/**
 * Audits a mutating call once it has succeeded, before its answer goes out (streams: when they
 * complete), unless the handler already recorded it in its own transaction (`recordIn`).
 * `@Requires` attaches it to every handler whose action is not `read`; reads skip it.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly recorder: AuditRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call = callContextOf(context.switchToRpc().getContext<Metadata>());
    const method = grpcMethodOf(context.getArgByIndex<{ getPath?(): string } | undefined>(2)?.getPath?.()).full;
    let recorded: Promise<void> | undefined;
    const record = () => {
      if (call.caller?.audited) return Promise.resolve();
      return (recorded ??= this.recorder.succeeded(auditedCall(call, method)));
    };
    return next.handle().pipe(
      concatMap(async (value: unknown) => {
        await record();
        return value;
      }),
      tap({ complete: () => void record() }),
    );
  }
}

/** What the audit log says about a call, from what the kit knows of it. */
export function auditedCall(call: CallContext, method: string): AuditedCall {
  const target = call.caller?.target;
  const kind = target?.kind ?? call.required?.kind ?? '';
  return {
    actor: call.caller?.principal?.id ?? '',
    action: call.required?.action ?? '',
    method,
    resource: target?.id ? `${kind}/${target.id}` : kind,
    projectId: target?.projectId ?? '',
    requestId: call.requestId,
    clientAddress: call.clientAddress,
  };
}
