import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerDuplexStream,
  ServerReadableStream,
  ServerWritableStream,
  UntypedHandleCall,
} from '@grpc/grpc-js';
import { concatMap, firstValueFrom, isObservable, Observable, of } from 'rxjs';
import type { AuditRecorder } from '../audit/audit-recorder';
import { auditedCall, auditsCall } from '../audit/audit.interceptor';
import type { AuthGuard } from '../auth/auth.guard';
import { callContextOf, type CallContext } from '../auth/call-context';
import type { DomainError } from '../errors';
import type { CallFailures } from './call-pipeline';
import type { GrpcRoute } from './grpc-routes';
import { RefusedRequest } from './request-limits';

/** What every call of a service goes through besides its handler. */
export interface CallPipeline {
  guard: AuthGuard;
  failures: CallFailures;
  audit: AuditRecorder;
}

/** The client cancelled before the handler answered: nothing more is sent. */
const CANCELLED = Symbol('cancelled');

/**
 * The grpc-js handler of `route`: answers a request message the kit refused (a `RefusedRequest`
 * from requestDecoder) with its status, details included, before anything else sees it, binds the call's context
 * (request id and peer, read when first needed), lets the guard admit it, runs the controller's handler, audits a mutating
 * call that succeeded, and answers any error with the status CallFailures chooses. Plain functions
 * and promises per call; the route holds everything that does not change between calls.
 */
export function callHandler(route: GrpcRoute, pipeline: CallPipeline): UntypedHandleCall {
  switch (route.kind) {
    case 'unary':
      return unaryHandler(route, pipeline);
    case 'serverStream':
      return serverStreamHandler(route, pipeline);
    case 'clientStream':
      return clientStreamHandler(route, pipeline);
    case 'bidi':
      return bidiHandler(route, pipeline);
  }
}

function unaryHandler(route: GrpcRoute, pipeline: CallPipeline): handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const context = callContextOf(call.metadata, call);
    const fail = (error: unknown) => void pipeline.failures.answer(error, context, route).then(callback);
    if (call.request instanceof RefusedRequest) return fail(call.request.reason);
    let response: unknown;
    try {
      const admitted = pipeline.guard.admit(context, call.metadata, route);
      response = admitted ? admitted.then(() => route.invoke(call.request, call.metadata, call)) : route.invoke(call.request, call.metadata, call);
    } catch (error) {
      return fail(error);
    }
    // Most calls get here with no await at all (a token already verified); each await costs a turn.
    if (!isPromiseLike(response) && !isObservable(response) && !auditsCall(route.audited, context)) return callback(null, response);
    finish(route, pipeline, context, response).then((answer) => callback(null, answer), fail);
  };
}

/** The answer of a unary handler that returned a promise or an Observable, or of an audited call, once audited. */
async function finish(route: GrpcRoute, pipeline: CallPipeline, context: CallContext, response: unknown): Promise<unknown> {
  let answer = await response;
  // A unary handler may answer with an Observable, as Nest allowed: its first message is the answer.
  if (isObservable(answer)) answer = await firstValueFrom(answer);
  if (auditsCall(route.audited, context)) await auditOnce(route, pipeline, context)();
  return answer;
}

function serverStreamHandler(route: GrpcRoute, pipeline: CallPipeline): handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    const context = callContextOf(call.metadata, call);
    if (call.request instanceof RefusedRequest) return void pipeline.failures.answer(call.request.reason, context, route).then((status) => call.emit('error', status));
    stream(route, pipeline, context, call.request, call).catch(
      (error: unknown) => void pipeline.failures.answer(error, context, route).then((status) => call.emit('error', status)),
    );
  };
}

function bidiHandler(route: GrpcRoute, pipeline: CallPipeline): handleBidiStreamingCall<unknown, unknown> {
  return (call) => {
    const context = callContextOf(call.metadata, call);
    const requests = requestsOf(call, (refused) => void pipeline.failures.answer(refused, context, route).then((status) => call.emit('error', status)));
    stream(route, pipeline, context, requests, call).catch(
      (error: unknown) => void pipeline.failures.answer(error, context, route).then((status) => call.emit('error', status)),
    );
  };
}

async function stream(
  route: GrpcRoute,
  pipeline: CallPipeline,
  context: CallContext,
  request: unknown,
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
): Promise<void> {
  const admitted = pipeline.guard.admit(context, call.metadata, route);
  if (admitted) await admitted;
  let messages = route.invoke(request, call.metadata, call);
  if (isPromiseLike(messages)) messages = await messages;
  await writeAll(call, isObservable(messages) ? messages : of(messages), auditsCall(route.audited, context) ? auditOnce(route, pipeline, context) : undefined);
}

/**
 * Sends each message the handler's Observable gives, then ends the call; an audited call is
 * recorded before its first message goes out, or before the end when it sends none. Resolves
 * when the call ended or the client cancelled (the Observable is then unsubscribed).
 */
function writeAll(
  call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  messages: Observable<unknown>,
  audit: (() => Promise<void>) | undefined,
): Promise<void> {
  const source = audit ? messages.pipe(concatMap(async (message: unknown) => (await audit(), message))) : messages;
  return new Promise<void>((resolve, reject) => {
    let cancelled = false;
    const subscription = source.subscribe({
      // grpc-js buffers what the client has not taken yet; handlers that produce a lot wait for 'drain' (see drainedStream).
      next: (message) => void call.write(message),
      error: reject,
      complete: () => {
        const recorded = audit?.() ?? Promise.resolve();
        recorded.then(() => {
          if (!cancelled) call.end();
          resolve();
        }, reject);
      },
    });
    call.once('cancelled', () => {
      cancelled = true;
      subscription.unsubscribe();
      resolve();
    });
  });
}

function clientStreamHandler(route: GrpcRoute, pipeline: CallPipeline): handleClientStreamingCall<unknown, unknown> {
  return (call, callback) => {
    const context = callContextOf(call.metadata, call);
    const refuse = (refused: DomainError) => void pipeline.failures.answer(refused, context, route).then(callback);
    answerStream(route, pipeline, context, call, requestsOf(call, refuse)).then(
      (response) => {
        if (response !== CANCELLED) callback(null, response);
      },
      (error: unknown) => void pipeline.failures.answer(error, context, route).then(callback),
    );
  };
}

async function answerStream(
  route: GrpcRoute,
  pipeline: CallPipeline,
  context: CallContext,
  call: ServerReadableStream<unknown, unknown>,
  requests: Observable<unknown>,
): Promise<unknown> {
  const admitted = pipeline.guard.admit(context, call.metadata, route);
  if (admitted) await admitted;
  let response = route.invoke(requests, call.metadata, call);
  if (isPromiseLike(response)) response = await response;
  const last = await lastMessage(isObservable(response) ? response : of(response), call);
  if (last !== CANCELLED && auditsCall(route.audited, context)) await auditOnce(route, pipeline, context)();
  return last;
}

/** The last message `answers` gives once it completes, or CANCELLED (unsubscribing) if the client cancels first. */
function lastMessage(answers: Observable<unknown>, call: ServerReadableStream<unknown, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let last: unknown = CANCELLED;
    const subscription = answers.subscribe({
      next: (message) => (last = message),
      error: reject,
      complete: () => (last === CANCELLED ? reject(new Error(`${call.getPath()} completed without an answer`)) : resolve(last)),
    });
    call.once('cancelled', () => {
      subscription.unsubscribe();
      resolve(CANCELLED);
    });
  });
}

/**
 * The request messages of a client stream, as the Observable a `@GrpcStreamMethod` handler
 * takes. It reads the call only once subscribed, so nothing is lost before the handler listens,
 * and a handler that pauses the call holds the client back. A message the kit refused is never
 * handed on: `refuse` answers the call with the refusal's status, which ends the call, and
 * grpc-js then cancels the handler.
 */
function requestsOf(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>, refuse: (refused: DomainError) => void): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    let refused = false;
    const next = (message: unknown) => {
      if (refused) return;
      if (!(message instanceof RefusedRequest)) return subscriber.next(message);
      refused = true;
      refuse(message.reason);
    };
    const complete = () => subscriber.complete();
    const error = (failure: unknown) => subscriber.error(failure);
    call.on('data', next).once('end', complete).once('error', error);
    return () => void call.off('data', next).off('end', complete).off('error', error);
  });
}

/** Records the call as succeeded once, unless its handler already did (`AuditRecorder.recordIn`). */
function auditOnce(route: GrpcRoute, pipeline: CallPipeline, context: CallContext): () => Promise<void> {
  let recorded: Promise<void> | undefined;
  return () => {
    if (context.caller?.audited) return Promise.resolve();
    return (recorded ??= pipeline.audit.succeeded(auditedCall(context, route.full)));
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
