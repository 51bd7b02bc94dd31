import type { Metadata } from '@grpc/grpc-js';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Caller } from './caller';

/** What the kit knows about one gRPC call while it runs. */
export interface CallContext {
  requestId: string;
  /** `process.hrtime.bigint()` when the kit first saw the call. */
  startedAt: bigint;
  /** Set once the auth guard has let the call through. */
  caller?: Caller;
}

const calls = new WeakMap<Metadata, CallContext>();

/**
 * The context of the call these metadata belong to, created on first use with the request id
 * the client sent (`x-request-id`) or a new one.
 */
export function callContextOf(metadata: Metadata): CallContext {
  let context = calls.get(metadata);
  if (!context) {
    context = { requestId: requestIdFrom(metadata), startedAt: process.hrtime.bigint() };
    calls.set(metadata, context);
  }
  return context;
}

function requestIdFrom(metadata: Metadata): string {
  const sent = metadata.get('x-request-id')[0];
  return typeof sent === 'string' && /^[\w.:-]{1,128}$/.test(sent) ? sent : randomUUID();
}

/** Parameter decorator: the `Caller` of the current gRPC call. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const caller = callContextOf(context.switchToRpc().getContext<Metadata>()).caller;
  if (!caller) throw new Error('CurrentCaller used outside a call that passed the auth guard');
  return caller;
});
