import { create, type DescService, type MessageInitShape } from '@bufbuild/protobuf';
import { createValidator } from '@bufbuild/protovalidate';
import * as proto from '@trellis/proto';
import { ModelInferRequestSchema, SearchRunsRequestSchema } from '@trellis/proto';
import { withinLimitsCheck } from './within-limits';

const validator = createValidator();
const checkOf = withinLimitsCheck(ModelInferRequestSchema)!;

/** What the check and protovalidate each say of a ModelInferRequest. */
function verdicts(request: MessageInitShape<typeof ModelInferRequestSchema>) {
  const message = create(ModelInferRequestSchema, request);
  return { withinLimits: checkOf(message), valid: validator.validate(ModelInferRequestSchema, message).kind === 'valid' };
}

const text = (length: number) => 'x'.repeat(length);
const stringParameter = (length: number) => ({ parameterChoice: { case: 'stringParam' as const, value: text(length) } });
const tensor = { name: 'input', datatype: 'FP32', shape: [1n, 10n] };

describe('withinLimitsCheck', () => {
  it('vouches for a message at each of its limits, as protovalidate does', () => {
    expect(
      verdicts({
        modelName: text(256),
        id: text(256),
        parameters: Object.fromEntries(Array.from({ length: 64 }, (_, index) => [`${index}`.padStart(128, 'k'), stringParameter(4096)])),
        inputs: Array.from({ length: 256 }, () => ({ ...tensor, shape: Array.from({ length: 64 }, () => 1n), parameters: { p: stringParameter(4096) } })),
        rawInputContents: Array.from({ length: 256 }, () => new Uint8Array(4)),
      }),
    ).toEqual({ withinLimits: true, valid: true });
  });

  it.each([
    ['a string', { modelName: text(257) }],
    ['a list of scalars', { inputs: [{ ...tensor, shape: Array.from({ length: 65 }, () => 1n) }] }],
    ['a list of messages', { inputs: Array.from({ length: 257 }, () => tensor) }],
    ['a list of bytes', { rawInputContents: Array.from({ length: 257 }, () => new Uint8Array(1)) }],
    ['a map', { parameters: Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, stringParameter(1)])) }],
    ['a map key', { parameters: { [text(129)]: stringParameter(1) } }],
    ['a oneof member in a map value', { parameters: { k: stringParameter(4097) } }],
    ['a map nested in a list', { inputs: [{ ...tensor, parameters: { p: stringParameter(4097) } }] }],
  ])('does not vouch for a message one past the limit of %s, which protovalidate refuses', (_, request) => {
    expect(verdicts(request)).toEqual({ withinLimits: false, valid: false });
  });

  it('leaves a string longer in UTF-16 than its limit in characters to protovalidate, which takes it', () => {
    expect(verdicts({ modelName: '\u{1F600}'.repeat(256) })).toEqual({ withinLimits: false, valid: true });
  });

  it('has no check for a type with rules other than limits, so protovalidate decides every message of it', () => {
    expect(withinLimitsCheck(SearchRunsRequestSchema)).toBeUndefined();
  });

  it('plans a check for the requests of nine in ten public methods or more (the others have number or enum rules)', () => {
    const methods = [...new Set((Object.values(proto) as unknown[]).filter((value): value is DescService => (value as DescService | undefined)?.kind === 'service'))].flatMap(
      (service) => service.methods,
    );
    const checked = methods.filter((method) => withinLimitsCheck(method.input) !== undefined);
    expect(checked.length / methods.length).toBeGreaterThan(0.9);
  });
});
