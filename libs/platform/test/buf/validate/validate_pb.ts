// buf/validate/validate.proto's generated code, as @bufbuild/protovalidate ships it (see
// libs/proto/src/buf/validate/validate_pb.ts); buf.gen.yaml points the test service's imports of it here.
export * from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
