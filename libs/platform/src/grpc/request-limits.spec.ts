import { create, getOption, isFieldSet, ScalarType, toBinary, type DescField, type DescMessage, type DescMethod, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import { field as fieldRules, MapRulesSchema, RepeatedRulesSchema, StringRulesSchema, type FieldRules } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import { status } from '@grpc/grpc-js';
import * as proto from '@trellis/proto';
import { ApprovalService, RunService } from '@trellis/proto';
import { DEFAULT_MAX_REQUEST_BYTES, maxRequestBytesOf, RefusedRequest, requestDecoder } from './request-limits';

// A set: @trellis/proto exports each descriptor twice, as `RunService` and as `RunServiceDesc`.
const services = [...new Set((Object.values(proto) as unknown[]).filter((value): value is DescService => (value as DescService | undefined)?.kind === 'service'))];
const methods = services.flatMap((service) => service.methods);

/** Decodes `request` as `method`'s server would: a message, or the refusal's code and message. */
function decode<M extends DescMethod>(method: M, request: MessageInitShape<M['input']>) {
  const decoded = requestDecoder(method)(Buffer.from(toBinary(method.input, create(method.input, request))));
  return decoded instanceof RefusedRequest ? { code: decoded.reason.code, message: decoded.reason.message } : decoded;
}

/** Whether a field's `buf.validate` rules bound it: a string's length, a list's or a map's entries, and the strings in them. */
function isLimited(field: DescField): boolean {
  const { type } = getOption(field, fieldRules);
  const maxLen = (rules: FieldRules['type']) => rules.case === 'string' && isFieldSet(rules.value, StringRulesSchema.field.maxLen);
  if (field.fieldKind === 'map') {
    if (type.case !== 'map' || !isFieldSet(type.value, MapRulesSchema.field.maxPairs)) return false;
    const { keys, values } = type.value;
    const valuesLimited = field.mapKind !== 'scalar' || field.scalar !== ScalarType.STRING || (values !== undefined && maxLen(values.type));
    return (field.mapKey !== ScalarType.STRING || (keys !== undefined && maxLen(keys.type))) && valuesLimited;
  }
  if (field.fieldKind === 'list') {
    if (type.case !== 'repeated' || !isFieldSet(type.value, RepeatedRulesSchema.field.maxItems)) return false;
    return field.listKind !== 'scalar' || field.scalar !== ScalarType.STRING || (type.value.items !== undefined && maxLen(type.value.items.type));
  }
  if (field.fieldKind === 'scalar' && field.scalar === ScalarType.STRING) return maxLen(type);
  return true;
}

/** Every field a request can carry without a limit, as `Message.field`, through nested messages. */
function unlimitedFields(message: DescMessage, seen = new Set<string>()): string[] {
  if (seen.has(message.typeName) || message.typeName.startsWith('google.protobuf.')) return [];
  seen.add(message.typeName);
  return message.fields.flatMap((field) => [
    ...(isLimited(field) ? [] : [`${message.typeName}.${field.name}`]),
    ...(field.message ? unlimitedFields(field.message, seen) : []),
  ]);
}

describe('request limits', () => {
  it('finds the public services', () => {
    expect(services.map((service) => service.typeName)).toEqual(expect.arrayContaining(['trellis.governance.v1.IdentityService', 'trellis.tracking.v1.RunService', 'trellis.registry.v1.RegistryService']));
  });

  it('has a declared limit on every string, list and map field of every public request, list items included', () => {
    expect(methods.flatMap((method) => unlimitedFields(method.input))).toEqual([]);
  });

  it('takes every public method\'s empty request: the rules compile', () => {
    for (const method of methods) expect({ method: method.name, decoded: decode(method, {}) }).toEqual({ method: method.name, decoded: create(method.input) });
  });

  it('names an entry of a list by its index, and counts the other violations', () => {
    const tags = [{ key: 'a', value: 'v' }, { key: 'b', value: 'v'.repeat(8001) }, { key: 'c'.repeat(300), value: 'v' }];
    expect(decode(RunService.method.logBatch, { runId: 'r', tags })).toEqual({ code: status.INVALID_ARGUMENT, message: 'tags[1].value: must be at most 8000 characters (and 1 more)' });
    const refused = requestDecoder(RunService.method.logBatch)(Buffer.from(toBinary(RunService.method.logBatch.input, create(RunService.method.logBatch.input, { runId: 'r', tags }))));
    expect((refused as RefusedRequest).reason.violations).toEqual([
      { field: 'tags[1].value', description: 'must be at most 8000 characters', reason: 'STRING_MAX_LEN' },
      { field: 'tags[2].key', description: 'must be at most 255 characters', reason: 'STRING_MAX_LEN' },
    ]);
  });

  it('shows a map key in a field path only as its first 32 characters', () => {
    const refused = decode(ApprovalService.method.requestApproval, { projectId: 'p', details: { ['k'.repeat(10_000)]: 'v' } });
    expect(refused).toEqual({ code: status.INVALID_ARGUMENT, message: `details["${'k'.repeat(32)}..."]: a key must be at most 128 characters` });
  });

  it('refuses a request over its method\'s size before decoding it, whatever it holds', () => {
    const refused = requestDecoder(RunService.method.getRun)(Buffer.alloc(DEFAULT_MAX_REQUEST_BYTES + 1, 0xff));
    expect(refused).toEqual(new RefusedRequest(expect.objectContaining({ code: status.RESOURCE_EXHAUSTED, message: `the request is ${DEFAULT_MAX_REQUEST_BYTES + 1} bytes; trellis.tracking.v1.RunService/GetRun takes at most ${DEFAULT_MAX_REQUEST_BYTES}` })));
  });

  it('takes larger requests only where the proto declares it: LogInputs (dataset profiles of up to 16 MiB) and ModelInfer (tensors)', () => {
    const large = methods.filter((method) => maxRequestBytesOf(method) > DEFAULT_MAX_REQUEST_BYTES);
    expect(large.map((method) => [method.name, maxRequestBytesOf(method)]).sort()).toEqual([
      ['LogInputs', 32 * 1024 * 1024],
      ['ModelInfer', 64 * 1024 * 1024],
    ]);
  });
});
