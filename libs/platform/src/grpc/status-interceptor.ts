import type { Metadata, ServerInterceptingCall, ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';
import { excerpt } from '../errors';
import type { GrpcCallSeries, Metrics } from '../ops/metrics';
import { CODE_NAMES, MAX_STATUS_DETAILS } from './grpc-status';
import { grpcMethodOf } from './method-path';

type Listener = Parameters<ServerInterceptingCallInterface['start']>[0];
type Status = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

/**
 * A grpc-js server interceptor that records every call's status and duration, whatever answered
 * it (a handler, the auth guard, a request limit, health or reflection), at the transport level,
 * and cuts every status's details to MAX_STATUS_DETAILS characters, whoever wrote them. A call's
 * peer is its client's address even once the call has ended. A call that takes one request is
 * cancelled, for its handler (`call.on('cancelled')`), only when it ends before it was answered.
 */
export function statusInterceptor(metrics: Metrics): ServerInterceptor {
  const recorders = new Map<string, GrpcCallSeries>();
  return (method, call) => {
    let calls = recorders.get(method.path);
    if (!calls) {
      const { service, method: name } = grpcMethodOf(method.path);
      calls = metrics.grpcCalls(service, name);
      recorders.set(method.path, calls);
    }
    // grpc-js types interceptors as returning its own class; any object with its methods serves.
    return new ObservedCall(call, calls, !method.requestStream) as unknown as ServerInterceptingCall;
  };
}

/**
 * The call as handlers see it: everything passes straight to grpc-js, but the status, the peer,
 * and a cancel after the answer. (grpc-js's ServerInterceptingCall would also wrap the listener and
 * every message, several objects a call.)
 */
class ObservedCall implements ServerInterceptingCallInterface {
  private readonly startedAt = performance.now();
  /** Whether a status was sent: the call was answered. */
  answered = false;

  constructor(
    private readonly call: ServerInterceptingCallInterface,
    private readonly calls: GrpcCallSeries,
    private readonly takesOneRequest: boolean,
  ) {}

  sendStatus(status: Status): void {
    this.answered = true;
    this.calls.observe(CODE_NAMES[status.code] ?? String(status.code), this.startedAt);
    const { details } = status;
    this.call.sendStatus(details.length > MAX_STATUS_DETAILS ? { ...status, details: excerpt(details, MAX_STATUS_DETAILS) } : status);
  }

  /**
   * grpc-js tells a call's listener it was cancelled when its stream closes, answered or not: a
   * unary handler that aborts its work on 'cancelled' would abort (an AbortError, stack and all)
   * on every call. A call that takes a stream of requests keeps every cancel: grpc-js then ends
   * the stream of requests.
   */
  start(listener: Listener): void {
    this.call.start(this.takesOneRequest ? new UnlessAnswered(listener, this) : listener);
  }

  sendMetadata(metadata: Metadata): void {
    this.call.sendMetadata(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    this.call.sendMessage(message, callback);
  }

  startRead(): void {
    this.call.startRead();
  }

  /**
   * The client's address. grpc-js reads it from the socket each time and says `unknown` once the
   * call has ended; the kit reads it only when a log, error or audit record needs it, perhaps after
   * the end, so it then takes the address grpc-js noted when the call started.
   */
  getPeer(): string {
    const peer = this.call.getPeer();
    if (peer !== 'unknown') return peer;
    const { remoteAddress, remotePort } = this.call.getConnectionInfo();
    if (!remoteAddress) return peer;
    return remotePort ? `${remoteAddress}:${remotePort}` : remoteAddress;
  }

  getDeadline(): ReturnType<ServerInterceptingCallInterface['getDeadline']> {
    return this.call.getDeadline();
  }

  getHost(): string {
    return this.call.getHost();
  }

  getAuthContext(): ReturnType<ServerInterceptingCallInterface['getAuthContext']> {
    return this.call.getAuthContext();
  }

  getConnectionInfo(): ReturnType<ServerInterceptingCallInterface['getConnectionInfo']> {
    return this.call.getConnectionInfo();
  }

  getMetricsRecorder(): ReturnType<ServerInterceptingCallInterface['getMetricsRecorder']> {
    return this.call.getMetricsRecorder();
  }
}

/** A listener that hears no cancel once its call was answered. */
class UnlessAnswered implements Listener {
  constructor(
    private readonly listener: Listener,
    private readonly call: { readonly answered: boolean },
  ) {}

  onReceiveMetadata(metadata: Metadata): void {
    this.listener.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.listener.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    this.listener.onReceiveHalfClose();
  }

  onCancel(): void {
    if (!this.call.answered) this.listener.onCancel();
  }
}
