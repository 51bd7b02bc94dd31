import { create, fromBinary, toBinary, type DescMethod, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { Client, credentials as grpcCredentials, Metadata, type CallOptions, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ON_BEHALF_OF_HEADER } from '../auth/call-context';
import { callErrorOf } from './call-error';
import { asBuffer } from './package-definition';

type Method = GenServiceMethods[string];

/**
 * Channel options of the platform's clients: answers up to 256 MiB (grpc-js stops at 4 MiB by
 * default, less than a page of 10,000 runs), and an HTTP/2 receive window of 4 MiB per stream and
 * connection (HTTP/2's default is 64 KiB): a streamed answer (a blob's bytes) then flows while the
 * client's event loop is busy, instead of stopping for a window update every 64 KiB.
 */
export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = { 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc-node.flow_control_window': 4 * 1024 * 1024 };

/** Options of one call. */
export interface GrpcCallOptions {
  /** Overrides the client's token for this call. */
  token?: string;
  /** Sent as `x-request-id`, so the server's logs and errors name the same request. */
  requestId?: string;
  /** Deadline in milliseconds from now. */
  timeoutMs?: number;
  /**
   * The principal id of the user a service account acts for, sent as `x-trellis-on-behalf-of`;
   * the receiving service trusts it only when the token is a service account's (see ServiceIdentity).
   */
  onBehalfOf?: string;
  /** More request headers, such as `trellis-project`, which names the project of an inference call's model. */
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

type Input<M extends Method> = MessageInitShape<M['input']>;
type Output<M extends Method> = MessageShape<M['output']>;

/** A method of a typed client, shaped by its kind (unary, server, client or bidi streaming). */
export type ClientMethod<M extends Method> = M['methodKind'] extends 'unary'
  ? (request: Input<M>, options?: GrpcCallOptions) => Promise<Output<M>>
  : M['methodKind'] extends 'server_streaming'
    ? (request: Input<M>, options?: GrpcCallOptions) => AsyncIterable<Output<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (requests: AsyncIterable<Input<M>> | Iterable<Input<M>>, options?: GrpcCallOptions) => Promise<Output<M>>
      : (requests: AsyncIterable<Input<M>> | Iterable<Input<M>>, options?: GrpcCallOptions) => AsyncIterable<Output<M>>;

/** A typed client of one gRPC service: one method per RPC, named as protobuf-es names them. */
export type GrpcClient<T extends GenServiceMethods> = { [K in keyof T]: ClientMethod<T[K]> } & {
  /** Closes the channel. */
  close(): void;
};

/** How a client connects and who it calls as. */
export interface GrpcClientOptions {
  /** Bearer token sent with every call, or a function that returns a current one. */
  token?: string | (() => string | Promise<string>);
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
}

/**
 * Creates a typed client of a service from its protobuf-es descriptor: requests are message init
 * shapes, responses are protobuf-es messages, failed calls throw GrpcCallErrors: grpc-js
 * ServiceErrors (`code`, `details`, `metadata`) with the server's google.rpc.Status details decoded
 * (`reason`, `resource`, `violations`, `retryAfterSeconds`).
 */
export function createGrpcClient<T extends GenServiceMethods>(
  service: GenService<T>,
  address: string,
  options: GrpcClientOptions = {},
): GrpcClient<T> {
  const client = new Client(address, options.credentials ?? grpcCredentials.createInsecure(), { ...CLIENT_CHANNEL_OPTIONS, ...options.channelOptions });
  const methods: Record<string, unknown> = { close: () => client.close() };
  const metadataFor = async (call: GrpcCallOptions = {}): Promise<Metadata> => {
    const metadata = new Metadata();
    const token = call.token ?? (typeof options.token === 'function' ? await options.token() : options.token);
    if (token) metadata.set('authorization', `Bearer ${token}`);
    if (call.requestId) metadata.set('x-request-id', call.requestId);
    if (call.onBehalfOf) metadata.set(ON_BEHALF_OF_HEADER, call.onBehalfOf);
    for (const [name, value] of Object.entries(call.headers ?? {})) metadata.set(name, value);
    return metadata;
  };
  for (const method of service.methods) {
    methods[method.localName] = bindMethod(client, `/${service.typeName}/${method.name}`, method, metadataFor);
  }
  return methods as GrpcClient<T>;
}

function bindMethod(
  client: Client,
  path: string,
  method: DescMethod,
  metadataFor: (call?: GrpcCallOptions) => Promise<Metadata>,
) {
  const serialize = (message: never) => asBuffer(toBinary(method.input, create(method.input, message)));
  const deserialize = (bytes: Buffer) => fromBinary(method.output, bytes);
  const callOptions = (call: GrpcCallOptions = {}): CallOptions =>
    call.timeoutMs === undefined ? {} : { deadline: Date.now() + call.timeoutMs };

  switch (method.methodKind) {
    case 'unary':
      return async (request: never, call?: GrpcCallOptions) => {
        const metadata = await metadataFor(call);
        return new Promise((resolve, reject) => {
          let release = ignore;
          const pending = client.makeUnaryRequest(path, serialize, deserialize, request, metadata, callOptions(call), (error, response) => {
            release();
            if (error) reject(callErrorOf(error));
            else resolve(response);
          });
          release = cancelOnAbort(call?.signal, () => pending.cancel());
        });
      };
    case 'server_streaming':
      return (request: never, call?: GrpcCallOptions) =>
        (async function* () {
          const stream = client.makeServerStreamRequest(path, serialize, deserialize, request, await metadataFor(call), callOptions(call));
          const release = cancelOnAbort(call?.signal, () => stream.cancel());
          try {
            yield* stream;
          } catch (error) {
            throw callErrorOf(error);
          } finally {
            release();
            // A reader that stops early (break, an error) ends the call too; after a finished call this does nothing.
            stream.cancel();
          }
        })();
    case 'client_streaming':
      return async (requests: AsyncIterable<never> | Iterable<never>, call?: GrpcCallOptions) => {
        const metadata = await metadataFor(call);
        return new Promise((resolve, reject) => {
          let release = ignore;
          const stream = client.makeClientStreamRequest(path, serialize, deserialize, metadata, callOptions(call), (error, response) => {
            release();
            if (error) reject(callErrorOf(error));
            else resolve(response);
          });
          release = cancelOnAbort(call?.signal, () => stream.cancel());
          writeAll(stream, requests).catch((error: unknown) => {
            stream.cancel();
            reject(error);
          });
        });
      };
    case 'bidi_streaming':
      return (requests: AsyncIterable<never> | Iterable<never>, call?: GrpcCallOptions) =>
        (async function* () {
          const stream = client.makeBidiStreamRequest(path, serialize, deserialize, await metadataFor(call), callOptions(call));
          const release = cancelOnAbort(call?.signal, () => stream.cancel());
          writeAll(stream, requests).catch(() => stream.cancel());
          try {
            yield* stream;
          } catch (error) {
            throw callErrorOf(error);
          } finally {
            release();
            // A reader that stops early (break, an error) ends the call too; after a finished call this does nothing.
            stream.cancel();
          }
        })();
  }
}

const ignore = (): void => undefined;

/** Cancels the call when `signal` aborts; returns how to stop listening once the call is over (one signal may serve many calls). */
function cancelOnAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return ignore;
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

async function writeAll(
  stream: NodeJS.WritableStream & { end(): void },
  requests: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<void> {
  for await (const request of requests) {
    if (!stream.write(request as never)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
}
