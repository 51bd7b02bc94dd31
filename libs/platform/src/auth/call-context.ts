import type { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Caller, CallOrigin } from './caller';

/** The metadata key in which a service account names the user it acts for (see `Caller.onBehalfOf`). */
export const ON_BEHALF_OF_HEADER = 'x-trellis-on-behalf-of';

/** What the kit knows about one gRPC call while it runs. */
export interface CallContext extends CallOrigin {
  /** The permission the handler declared, once the auth guard has read it. */
  required?: { action: string; kind: string };
  /** Set once the auth guard has let the call through. */
  caller?: Caller;
}

// Kept on the call's own metadata object: a WeakMap entry per call cost more than the rest of the guard.
const CONTEXT = Symbol('trellis:call-context');
type CarriesContext = Metadata & { [CONTEXT]?: CallContext };

/**
 * The context of the call these metadata belong to, created on first use. Its request id (the one
 * the client sent as `x-request-id`, or a new one) and the peer address of `call`, when given, are
 * worked out when first read and then kept: most calls succeed and never read them.
 */
export function callContextOf(metadata: Metadata, call?: { getPeer?(): string }): CallContext {
  const carrier = metadata as CarriesContext;
  return (carrier[CONTEXT] ??= new LazyCallContext(metadata, call));
}

class LazyCallContext implements CallContext {
  required?: { action: string; kind: string };
  caller?: Caller;
  private id?: string;
  private address?: string;
  private actingFor?: string | null;

  constructor(
    private readonly metadata: Metadata,
    private readonly call: { getPeer?(): string } | undefined,
  ) {}

  get requestId(): string {
    return (this.id ??= requestIdFrom(this.metadata));
  }

  get clientAddress(): string {
    return (this.address ??= this.call?.getPeer?.() ?? '');
  }

  get onBehalfOf(): string | undefined {
    if (this.actingFor === undefined) this.actingFor = onBehalfOfFrom(this.metadata) ?? null;
    return this.actingFor ?? undefined;
  }
}

/** What `x-trellis-on-behalf-of` names: a principal id (ids are short and printable), else nothing. */
function onBehalfOfFrom(metadata: Metadata): string | undefined {
  const sent = metadata.get(ON_BEHALF_OF_HEADER)[0];
  return typeof sent === 'string' && /^[\w.:@-]{1,128}$/.test(sent) ? sent : undefined;
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
