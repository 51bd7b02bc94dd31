import type { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Caller } from './caller';

/** What the kit knows about one gRPC call while it runs. */
export interface CallContext {
  requestId: string;
  /** `process.hrtime.bigint()` when the kit first saw the call. */
  startedAt: bigint;
  /** The client's address as the server saw it (`ipv4:127.0.0.1:5123`), when known. */
  clientAddress: string;
  /** The permission the handler declared, once the auth guard has read it. */
  required?: { action: string; kind: string };
  /** Set once the auth guard has let the call through. */
  caller?: Caller;
}

const calls = new WeakMap<Metadata, CallContext>();

/**
 * The context of the call these metadata belong to, created on first use with the request id
 * the client sent (`x-request-id`) or a new one, and the peer address of `call` when given.
 */
export function callContextOf(metadata: Metadata, call?: { getPeer?(): string }): CallContext {
  let context = calls.get(metadata);
  if (!context) {
    context = { requestId: requestIdFrom(metadata), startedAt: process.hrtime.bigint(), clientAddress: call?.getPeer?.() ?? '' };
    calls.set(metadata, context);
  }
  return context;
}

function requestIdFrom(metadata: Metadata): string {
  const sent = metadata.get('x-request-id')[0];
  return typeof sent === 'string' && /^[\w.:-]{1,128}$/.test(sent) ? sent : randomUUID();
}

/**
 * The `Caller` of a gRPC call, from the metadata NestJS passes every handler as its second
 * argument: `getRun(request: GetRunRequest, metadata: Metadata) { const caller = callerOf(metadata); ... }`.
 * (Handlers take plain arguments rather than parameter decorators: Nest resolves decorated
 * parameters through an async pipe chain on every call, which cost 10% of throughput.)
 */
export function callerOf(metadata: Metadata): Caller {
  const caller = calls.get(metadata)?.caller;
  if (!caller) throw new Error('callerOf used outside a call that passed the auth guard');
  return caller;
}
