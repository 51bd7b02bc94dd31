import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { isWrapperDesc, StructSchema } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';

type Init = Record<string, unknown>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Lone surrogates mixed with ASCII and astral characters: TextEncoder writes each lone one as U+FFFD. */
const surrogateUnit = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
  fc.constantFrom('a', 'é', '€', '😀'),
);

const strings = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: surrogateUnit, maxLength: 20 }),
  fc.string({ minLength: 60, maxLength: 300 }),
  fc.string({ unit: 'binary', minLength: 60, maxLength: 200 }),
);

/** Extremes and boundaries first among the 64-bit integers: varint lengths change at powers of 2^7. */
function int64s(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  const edges = [min, max, 0n, 1n, -1n, 127n, 128n, 2n ** 31n - 1n, 2n ** 32n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, 2n ** 63n - 1n].filter((edge) => edge >= min && edge <= max);
  return fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min, max }), fc.integer({ min: min < 0n ? -(2 ** 31) : 0 }).map(BigInt));
}

function scalar(type: ScalarType, longAsString: boolean): fc.Arbitrary<unknown> {
  const long = (arbitrary: fc.Arbitrary<bigint>) => (longAsString ? arbitrary.map(String) : arbitrary);
  switch (type) {
    case ScalarType.DOUBLE:
      return fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, -Number.MAX_VALUE));
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(int64s(INT64_MIN, INT64_MAX));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(int64s(0n, UINT64_MAX));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)), fc.integer());
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constantFrom(0, 2 ** 32 - 1, 2 ** 31), fc.nat({ max: 2 ** 32 - 1 }));
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return strings;
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 200 });
  }
}

function mapKey(type: ScalarType): fc.Arbitrary<string> {
  switch (type) {
    case ScalarType.STRING:
      return strings.filter((key) => key !== '__proto__');
    case ScalarType.BOOL:
      return fc.constantFrom('true', 'false');
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return scalar(type, true).map(String);
    default:
      return fc.integer().map(String);
  }
}

/** Whether protobuf-es holds `field`, a singular google.protobuf.Struct, as a JsonObject. */
function isJsonStruct(field: DescField & { fieldKind: 'message' }): boolean {
  return field.message.typeName === StructSchema.typeName && field.parent.typeName !== 'google.protobuf.Value';
}

function singular(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case 'scalar':
      return scalar(field.scalar, field.longAsString);
    case 'enum':
      return fc.oneof(fc.constantFrom(...field.enum.values.map((value) => value.number)), fc.integer());
    case 'message':
      // protobuf-es takes a google.protobuf.*Value outside a oneof as the scalar it wraps,
      // and a google.protobuf.Struct as a JsonObject.
      if (!field.oneof && isWrapperDesc(field.message)) return singular(field.message.fields[0], depth);
      if (isJsonStruct(field)) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: depth > 0 ? 4 : 0 });
      return arbitraryMessage(field.message, depth - 1);
    default:
      throw new Error(`not a singular field: ${field.name}`);
  }
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case 'list': {
      const item =
        field.listKind === 'message'
          ? arbitraryMessage(field.message, depth - 1)
          : field.listKind === 'enum'
            ? fc.oneof(fc.constantFrom(...field.enum.values.map((value) => value.number)), fc.integer())
            : scalar(field.scalar, field.longAsString);
      return fc.array(item, { maxLength: depth > 0 ? 6 : 0 });
    }
    case 'map': {
      const value =
        field.mapKind === 'message'
          ? arbitraryMessage(field.message, depth - 1)
          : field.mapKind === 'enum'
            ? fc.constantFrom(...field.enum.values.map((value) => value.number))
            : scalar(field.scalar, false);
      return fc.dictionary(mapKey(field.mapKey), value, { maxKeys: depth > 0 ? 4 : 0 });
    }
    default:
      return singular(field, depth);
  }
}

/**
 * Random init objects for `create(schema, init)`, any field left out or set (zero values often),
 * oneofs set to any member or none, nested messages to `depth` levels.
 */
export function arbitraryMessage(schema: DescMessage, depth = 3): fc.Arbitrary<Init> {
  if (depth < 0) return fc.constant({});
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of schema.fields) {
    if (field.oneof) continue;
    if (field.fieldKind === 'message' && depth === 0) continue;
    fields[field.localName] = field.fieldKind === 'scalar' || field.fieldKind === 'enum' ? fc.oneof(fieldValue(field, depth), zeroOf(field)) : fieldValue(field, depth);
  }
  for (const oneof of schema.oneofs) {
    const members = oneof.fields.filter((field) => field.fieldKind !== 'message' || depth > 0);
    fields[oneof.localName] = fc.oneof(
      fc.constant({ case: undefined }),
      ...members.map((field) => singular(field, depth).map((value) => ({ case: field.localName, value }))),
    );
  }
  return fc.record(fields, { requiredKeys: [] });
}

/** The zero value of a scalar or enum field, which proto3 leaves out unless the field has presence. */
function zeroOf(field: DescField & { fieldKind: 'scalar' | 'enum' }): fc.Arbitrary<unknown> {
  if (field.fieldKind === 'enum') return fc.constant(field.enum.values[0]?.number ?? 0);
  switch (field.scalar) {
    case ScalarType.STRING:
      return fc.constant('');
    case ScalarType.BOOL:
      return fc.constant(false);
    case ScalarType.BYTES:
      return fc.constant(new Uint8Array(0));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.constantFrom(0, -0);
    default:
      return fc.constant(field.longAsString ? '0' : [ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64].includes(field.scalar) ? 0n : 0);
  }
}

/** `init` with every int64 that is a safe integer as a number, as the database hands them to the writer. */
export function withNumbers(schema: DescMessage, init: Init): Init {
  const out: Init = { ...init };
  const one = (field: DescField, value: unknown): unknown => {
    if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
    const message =
      field.fieldKind === 'scalar' || field.fieldKind === 'enum' || (field.fieldKind === 'message' && ((!field.oneof && isWrapperDesc(field.message)) || isJsonStruct(field))) ? undefined : field.message;
    return message && value !== undefined ? withNumbers(message, value as Init) : value;
  };
  const convert = (field: DescField, value: unknown): unknown => {
    if (field.fieldKind === 'list') return (value as unknown[]).map((item) => one(field, item));
    if (field.fieldKind === 'map') return Object.fromEntries(Object.entries(value as Init).map(([key, item]) => [key, one(field, item)]));
    return one(field, value);
  };
  for (const field of schema.fields) {
    if (field.oneof) {
      const chosen = out[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
      if (chosen?.case === field.localName) out[field.oneof.localName] = { case: chosen.case, value: convert(field, chosen.value) };
    } else if (out[field.localName] !== undefined) out[field.localName] = convert(field, out[field.localName]);
  }
  return out;
}
