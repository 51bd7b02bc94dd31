// buf/validate/validate.proto's generated code, as @bufbuild/protovalidate ships it: one copy of
// the rules' schema for the protos that use them and for the validator that enforces them.
// buf.gen.yaml points the generated imports of it here.
export * from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
