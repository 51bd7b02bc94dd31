import { create, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { AnySchema, FileDescriptorProtoSchema, StructSchema, TimestampSchema, ValueSchema } from '@bufbuild/protobuf/wkt';
import * as contracts from '@trellis/proto';
import {
  GetMetricSeriesResponseSchema,
  GetSampledMetricSeriesResponseSchema,
  LogBatchRequestSchema,
  MetricSchema,
  RunSchema,
  SearchRunsResponseSchema,
  StreamMetricSeriesResponseSchema,
} from '@trellis/proto';
import fc from 'fast-check';
import { arbitraryMessage, withNumbers } from './test-fixtures/arbitrary-message';
import { ChoicesSchema, FarFieldsSchema, MapsSchema, OptionalsSchema, RepeatsSchema, ScalarsSchema, Shade } from './test-fixtures/gen/wire_test_pb';
import { toWire, wireField } from './to-wire';
import type { WireMessage } from './wire-message';

/** Fixed, so that every run tries the same messages; a failure prints the seed and path to replay it. */
const SEED = 20261204;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const reference = (schema: DescMessage, init: Record<string, unknown>) => hex(toBinary(schema, create(schema, init)));
/** The maps of MapsSchema with their int64 values as protobuf-es' create wants them. */
const withBigInts = (maps: WireMessage<typeof MapsSchema>) => ({
  ...maps,
  int64ToMessage: Object.fromEntries(Object.entries(maps.int64ToMessage).map(([key, value]) => [key, { ...value, anInt64: BigInt(value.anInt64) }])),
  sint32ToInt64: Object.fromEntries(Object.entries(maps.sint32ToInt64).map(([key, value]) => [key, BigInt(value)])),
});
const written = (schema: DescMessage, init: Record<string, unknown>) => hex(toWire(schema, init as WireMessage<DescMessage>));

/** The messages that services write with wireField, and the fields they write so. */
const FAST_PATH: Array<[DescMessage, string]> = [
  [SearchRunsResponseSchema, 'runs'],
  [GetMetricSeriesResponseSchema, 'points'],
  [StreamMetricSeriesResponseSchema, 'points'],
  [GetSampledMetricSeriesResponseSchema, 'series'],
  [LogBatchRequestSchema, 'metrics'],
];

const SHAPES = [ScalarsSchema, OptionalsSchema, RepeatsSchema, MapsSchema, ChoicesSchema, FarFieldsSchema];
const WELL_KNOWN: Array<[DescMessage, number]> = [
  [StructSchema, 100],
  [ValueSchema, 100],
  [TimestampSchema, 100],
  [AnySchema, 100],
  [FileDescriptorProtoSchema, 40],
];
const CONTRACTS = (Object.values(contracts) as unknown[]).filter((value): value is DescMessage => typeof value === 'object' && value !== null && (value as DescMessage).kind === 'message');

/** The names a message's fields go by in protobuf-es: each field's, a oneof's for its members. */
const fieldNames = (schema: DescMessage) => [...schema.fields.filter((field) => !field.oneof).map((field) => field.localName), ...schema.oneofs.map((oneof) => oneof.localName)];

function writesAsProtobufEs(schema: DescMessage, runs: number): void {
  fc.assert(
    fc.property(arbitraryMessage(schema), (init) => {
      let expected: string;
      try {
        expected = reference(schema, init);
      } catch {
        // A proto2 required field left unset.
        expect(() => written(schema, init)).toThrow('required field not set');
        return;
      }
      expect(written(schema, init)).toBe(expected);
      expect(written(schema, withNumbers(schema, init))).toBe(expected);
    }),
    { seed: SEED, numRuns: runs },
  );
}

describe('the wire writer against protobuf-es', () => {
  it.each(FAST_PATH.map(([schema, field]) => [schema.typeName, schema, field] as const))(
    'writes %s as toBinary does, whole and field by field through $unknown',
    (_, schema, field) => {
      writesAsProtobufEs(schema, 300);
      expect(schema.field[field]).toBeDefined();
      fc.assert(
        fc.property(arbitraryMessage(schema), (init) => {
          for (const name of fieldNames(schema)) {
            const message = create(schema);
            message.$unknown = wireField(schema, name as never, init[name] as never);
            expect(hex(toBinary(schema, message))).toBe(reference(schema, { [name]: init[name] }));
          }
        }),
        { seed: SEED, numRuns: 300 },
      );
    },
  );

  it('writes any field of any message through $unknown as toBinary writes it', () => {
    for (const schema of [...SHAPES, ...CONTRACTS]) {
      fc.assert(
        fc.property(arbitraryMessage(schema), (init) => {
          for (const name of fieldNames(schema)) {
            const message = create(schema);
            message.$unknown = wireField(schema, name as never, init[name] as never);
            expect(hex(toBinary(schema, message))).toBe(reference(schema, { [name]: init[name] }));
          }
        }),
        { seed: SEED, numRuns: 20 },
      );
    }
  });

  it.each(SHAPES.map((schema) => [schema.typeName, schema] as const))(
    'writes %s (every scalar type, presence, packed and unpacked lists, maps, oneofs, far field numbers) as toBinary does',
    (_, schema) => writesAsProtobufEs(schema, 500),
  );

  it.each(WELL_KNOWN.map(([schema, runs]) => [schema.typeName, schema, runs] as const))('writes the well-known %s (recursive messages, proto2) as toBinary does', (_, schema, runs) =>
    writesAsProtobufEs(schema, runs),
  );

  it('writes every message of the public contracts as toBinary does', () => {
    expect(CONTRACTS.length).toBeGreaterThan(100);
    for (const schema of CONTRACTS) writesAsProtobufEs(schema, 20);
  });

  it('writes a message protobuf-es built, with its unknown fields, as toBinary does', () => {
    const metric = create(MetricSchema, { key: 'loss', value: -0, timestampMs: -(2n ** 63n), step: 2n ** 63n - 1n });
    metric.$unknown = [{ no: 9, wireType: 0, data: new Uint8Array([1]) }];
    const run = create(RunSchema, { data: { metrics: [metric] } });
    // A message's singular message fields are optional properties, where WireMessage names them all.
    expect(hex(toWire(RunSchema, run as WireMessage<typeof RunSchema>))).toBe(hex(toBinary(RunSchema, run)));
  });

  it('refuses the values protobuf-es refuses', () => {
    const cases: Array<[DescMessage, Record<string, unknown>]> = [
      [ScalarsSchema, { anInt32: 1.5 }],
      [ScalarsSchema, { anInt32: 2 ** 31 }],
      [ScalarsSchema, { aUint32: -1 }],
      [ScalarsSchema, { anInt64: 2n ** 63n }],
      [ScalarsSchema, { aUint64: -1n }],
      [ScalarsSchema, { aStringInt64: '12x' }],
      [ScalarsSchema, { aFloat: 1e39 }],
    ];
    for (const [schema, init] of cases) {
      expect(() => toBinary(schema, create(schema, init))).toThrow();
      expect(() => written(schema, init)).toThrow(/invalid/);
    }
    expect(() => written(ScalarsSchema, { anInt64: 1.5 })).toThrow('invalid int64: 1.5');
  });

  it('names every field in what it takes, so a field added to a message cannot be left out unseen', () => {
    // @ts-expect-error: step is missing
    const incomplete: WireMessage<typeof MetricSchema> = { key: 'loss', value: 1, timestampMs: 1 };
    const complete: WireMessage<typeof MetricSchema> = { key: 'loss', value: 1, timestampMs: 1, step: 2n };
    expect(hex(toWire(MetricSchema, complete))).not.toBe(hex(toWire(MetricSchema, incomplete)));
  });

  it('takes maps and oneofs in their protobuf-es shapes', () => {
    const maps: WireMessage<typeof MapsSchema> = {
      stringToString: { a: 'b' },
      int32ToDouble: { [-1]: 0.5 },
      int64ToMessage: { '9007199254740993': { ...create(ScalarsSchema, { aString: 'x' }), anInt64: 5 } },
      uint32ToShade: { 7: Shade.LIGHT },
      uint64ToBytes: {},
      sint32ToInt64: { 3: -2 },
      sint64ToBool: {},
      fixed32ToFloat: {},
      fixed64ToString: {},
      sfixed32ToSint64: {},
      sfixed64ToUint32: {},
      boolToString: { true: 'yes' },
    };
    const choices: WireMessage<typeof ChoicesSchema> = {
      kind: { case: 'count', value: 3 },
      label: '',
      other: { case: undefined },
      children: [{ kind: { case: 'shade', value: Shade.NEGATIVE }, label: 'child', other: { case: 'flag', value: false }, children: [] }],
    };
    expect(written(MapsSchema, maps)).toBe(reference(MapsSchema, withBigInts(maps)));
    expect(written(ChoicesSchema, choices)).toBe(reference(ChoicesSchema, { ...choices, kind: { case: 'count', value: 3n } }));
  });

  it('answers nothing for a field that toBinary would leave out', () => {
    expect(wireField(SearchRunsResponseSchema, 'runs', [])).toEqual([]);
    expect(wireField(SearchRunsResponseSchema, 'nextPageToken', '')).toEqual([]);
  });
});
