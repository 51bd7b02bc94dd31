import { create, fromBinary, toBinary, type DescFile, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { MethodDefinition } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { requestDecoder } from './request-limits';

/**
 * Builds a grpc-js PackageDefinition from protobuf-es service descriptors, so that servers and
 * clients exchange real protobuf-es messages and no `.proto` file is read at run time.
 *
 * Requests are decoded by `requestDecoder`, which refuses one over its method's size or field
 * limits with a `RefusedRequest`, which the kit's gRPC server (see serveService) answers.
 *
 * Every file that declares a service, with its imports, is also listed as
 * `fileDescriptorProtos`, which is what gRPC server reflection answers from.
 */
export function packageDefinitionFor(services: readonly DescService[]): PackageDefinition {
  const definition: PackageDefinition = {};
  const files = new Map<string, Buffer>();
  for (const service of services) {
    // grpc-js only needs the method definitions; proto-loader's extra type fields are for its own clients.
    definition[service.typeName] = Object.fromEntries(
      service.methods.map((method) => [method.name, methodDefinition(service, method)]),
    ) as unknown as PackageDefinition[string];
    collectFiles(service.file, files);
  }
  const fileDescriptorProtos = [...files.values()];
  for (const service of services) {
    // Reflection reads descriptors from message-type entries; one per service file is enough.
    definition[`${service.typeName}Descriptor`] = {
      format: 'Protocol Buffer 3 DescriptorProto',
      type: {},
      fileDescriptorProtos,
    } as unknown as PackageDefinition[string];
  }
  return definition;
}

/** The fully qualified gRPC path of a method, `/package.Service/Method`. */
export function methodPath(service: DescService, method: DescMethod): string {
  return `/${service.typeName}/${method.name}`;
}

function methodDefinition(service: DescService, method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: methodPath(service, method),
    requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
    responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
    requestSerialize: (message) => asBuffer(toBinary(method.input, create(method.input, message as never))),
    requestDeserialize: requestDecoder(method),
    responseSerialize: (message) => asBuffer(toBinary(method.output, create(method.output, message as never))),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    originalName: method.localName,
  };
}

/** The same bytes as a Buffer, without copying them: grpc-js copies each message into its frame anyway. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function collectFiles(file: DescFile, into: Map<string, Buffer>): void {
  if (into.has(file.name)) return;
  for (const dependency of file.dependencies) collectFiles(dependency, into);
  into.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
}
