import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { excerpt } from '../errors';
import { RefusedRequest } from './request-limits';

/**
 * Longest status details a call is answered with. Clients refuse trailers past their metadata
 * limit (8 KiB in many), and losing the connection fails every other call on it.
 */
export const MAX_STATUS_DETAILS = 1024;

/**
 * A grpc-js server interceptor that answers a request message the kit refused (a `RefusedRequest`
 * from `requestDecoder`) with its status instead of handing it to the handler; grpc-js then ends
 * the call, cancelling a handler that is reading a stream. It also cuts every status's details to
 * MAX_STATUS_DETAILS characters, whoever wrote them.
 */
export function limitsInterceptor(): ServerInterceptor {
  return (_method, call) => {
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, pass) => {
            if (message instanceof RefusedRequest) intercepting.sendStatus({ code: message.reason.code, details: message.reason.message });
            else pass(message);
          },
        }),
      sendStatus: (outgoing, pass) => pass({ ...outgoing, details: excerpt(outgoing.details, MAX_STATUS_DETAILS) }),
    });
    return intercepting;
  };
}
