import type { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Caller } from './caller';

/** What the kit knows about one gRPC call while it runs. */
export interface CallContext {
  requestId: string;
  /** The client's address as the server saw it (`ipv4:127.0.0.1:5123`), when known. */
  clientAddress: string;
  /** The permission the handler declared, once the auth guard has read it. */
  required?: { action: string; kind: string };
  /** Set once the auth guard has let the call through. */
  caller?: Caller;
}

// Kept on the call's own metadata object: a WeakMap entry per call cost more than the rest of the guard.
const CONTEXT = Symbol('trellis:call-context');
type CarriesContext = Metadata & { [CONTEXT]?: CallContext };

/**
 * The context of the call these metadata belong to, created on first use with the request id
 * the client sent (`x-request-id`) or a new one, and the peer address of `call` when given.
 */
export function callContextOf(metadata: Metadata, call?: { getPeer?(): string }): CallContext {
  const carrier = metadata as CarriesContext;
  let context = carrier[CONTEXT];
  if (!context) {
    context = { requestId: requestIdFrom(metadata), clientAddress: call?.getPeer?.() ?? '' };
    carrier[CONTEXT] = context;
  }
  return context;
}

function requestIdFrom(metadata: Metadata): string {
  const sent = metadata.get('x-request-id')[0];
  return typeof sent === 'string' && /^[\w.:-]{1,128}$/.test(sent) ? sent : randomUUID();
}

/**
 * The `Caller` of a gRPC call, from the metadata the kit passes every handler as its second
 * argument: `getRun(request: GetRunRequest, metadata: Metadata) { const caller = callerOf(metadata); ... }`.
 * (Handlers take plain arguments, not Nest parameter decorators: the kit's transport calls them directly.)
 */
export function callerOf(metadata: Metadata): Caller {
  const caller = (metadata as CarriesContext)[CONTEXT]?.caller;
  if (!caller) throw new Error('callerOf used outside a call that passed the auth guard');
  return caller;
}
