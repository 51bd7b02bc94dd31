import { fromJson, ScalarType, type DescField, type DescMessage, type JsonObject } from '@bufbuild/protobuf';
import { isWrapperDesc, StructSchema } from '@bufbuild/protobuf/wkt';
import type { WireBuffer } from './wire-buffer';

/** Writes the fields of message `message` into `buffer`, with no tag or length of its own. */
export type WriteMessage = (buffer: WireBuffer, message: object) => void;

interface CompiledWriter {
  write: WriteMessage;
}

/** google.protobuf.FeatureSet.FieldPresence: how a field says whether it is set. */
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

const VARINT = 0;
const BIT64 = 1;
const LENGTH_DELIMITED = 2;
const BIT32 = 5;

/** The WireBuffer method that writes a scalar, and its wire type. */
const SCALARS: Record<ScalarType, { method: string; wireType: number }> = {
  [ScalarType.DOUBLE]: { method: 'double', wireType: BIT64 },
  [ScalarType.FLOAT]: { method: 'float', wireType: BIT32 },
  [ScalarType.INT64]: { method: 'int64', wireType: VARINT },
  [ScalarType.UINT64]: { method: 'uint64', wireType: VARINT },
  [ScalarType.INT32]: { method: 'int32', wireType: VARINT },
  [ScalarType.FIXED64]: { method: 'fixed64', wireType: BIT64 },
  [ScalarType.FIXED32]: { method: 'fixed32', wireType: BIT32 },
  [ScalarType.BOOL]: { method: 'bool', wireType: VARINT },
  [ScalarType.STRING]: { method: 'string', wireType: LENGTH_DELIMITED },
  [ScalarType.BYTES]: { method: 'bytesField', wireType: LENGTH_DELIMITED },
  [ScalarType.UINT32]: { method: 'uint32', wireType: VARINT },
  [ScalarType.SFIXED32]: { method: 'sfixed32', wireType: BIT32 },
  [ScalarType.SFIXED64]: { method: 'sfixed64', wireType: BIT64 },
  [ScalarType.SINT32]: { method: 'sint32', wireType: VARINT },
  [ScalarType.SINT64]: { method: 'sint64', wireType: VARINT },
};

const compiled = new WeakMap<DescMessage, CompiledWriter>();

/**
 * The writer of `schema`'s messages, compiled from its descriptor on first use and kept: one
 * statement per field in field-number order, each doing what protobuf-es' toBinary does for that
 * field's kind, type and presence. It is generated as source because a loop over field
 * descriptors reads properties by computed name, which V8 cannot make fast; generated code reads
 * `m.runId` like hand-written code does, and cannot miss a field the descriptor has.
 */
export function messageWriter(schema: DescMessage): WriteMessage {
  return compiledWriter(schema).write;
}

function compiledWriter(schema: DescMessage): CompiledWriter {
  const known = compiled.get(schema);
  if (known) return known;
  const holder: CompiledWriter = { write: () => undefined };
  // Registered before compiling the nested writers, so that a recursive message finds itself.
  compiled.set(schema, holder);
  try {
    holder.write = compile(schema);
  } catch (error) {
    compiled.delete(schema);
    throw error;
  }
  return holder;
}

function compile(schema: DescMessage): WriteMessage {
  const nested: CompiledWriter[] = [];
  const nestedRef = (message: DescMessage) => {
    let index = nested.findIndex((writer) => writer === compiledWriter(message));
    if (index < 0) index = nested.push(compiledWriter(message)) - 1;
    return `n[${index}]`;
  };
  const body = [...schema.fields]
    .sort((a, b) => a.number - b.number)
    .map((field) => fieldStatement(field, nestedRef))
    .join('\n');
  const source = `return function write(w, m) {
  let v, s, t, o, k;
${body}
  v = m.$unknown;
  if (v !== undefined) for (let i = 0; i < v.length; i++) { w.tag(((v[i].no << 3) | v[i].wireType) >>> 0); w.raw(v[i].data); }
};`;
  return new Function('n', 'j', source)(nested, structOf) as WriteMessage;
}

/** Statements that write `field` of message `m` as toBinary would, if it is set. */
function fieldStatement(field: DescField, nestedRef: (message: DescMessage) => string): string {
  if ('delimitedEncoding' in field && field.delimitedEncoding) throw unsupported(field, 'group (delimited) encoding');
  const name = JSON.stringify(field.localName);
  if (field.oneof) {
    return `  o = m[${JSON.stringify(field.oneof.localName)}];
  if (o !== undefined && o.case === ${name}) { v = o.value; ${valueStatement(field, nestedRef)} }`;
  }
  switch (field.fieldKind) {
    case 'scalar':
    case 'enum':
    case 'message': {
      const isSet = field.fieldKind !== 'message' && field.presence === IMPLICIT ? ` && ${notZero(field)}` : '';
      const required = field.presence === LEGACY_REQUIRED ? `  if (v === undefined) throw new Error(${JSON.stringify(`cannot encode ${field} to binary: required field not set`)});\n` : '';
      return `  v = m[${name}];\n${required}  if (v !== undefined${isSet}) { ${valueStatement(field, nestedRef)} }`;
    }
    case 'list':
      return `  v = m[${name}];\n  if (v !== undefined && v.length > 0) { ${listStatement(field, nestedRef)} }`;
    case 'map':
      return `  v = m[${name}];\n  if (v !== undefined) for (k of Object.keys(v)) { ${mapEntryStatement(field, nestedRef)} }`;
  }
}

/** Whether protobuf-es holds `field`, a singular google.protobuf.Struct, as a JsonObject. */
function isJsonStruct(field: DescField & { fieldKind: 'message' }): boolean {
  return field.message.typeName === StructSchema.typeName && field.parent.typeName !== 'google.protobuf.Value';
}

/** The Struct message of a JsonObject, as protobuf-es builds it for toBinary. */
function structOf(json: JsonObject): object {
  return fromJson(StructSchema, json);
}

/** Writes `v`, the value of a singular field (or a oneof member), with its tag. */
function valueStatement(field: DescField, nestedRef: (message: DescMessage) => string): string {
  // protobuf-es unwraps google.protobuf.*Value in a singular field outside a oneof: `v` is the scalar.
  if (field.fieldKind === 'message' && !field.oneof && isWrapperDesc(field.message)) return messageStatement(field.number, nestedRef(field.message), '{ value: v }');
  // ...and holds a google.protobuf.Struct in a field (but not inside google.protobuf.Value) as a JsonObject.
  if (field.fieldKind === 'message' && isJsonStruct(field)) return messageStatement(field.number, nestedRef(field.message), 'j(v)');
  if (field.fieldKind === 'message') return messageStatement(field.number, nestedRef(field.message), 'v');
  const { method, wireType } = scalarOf(field);
  return `w.tag(${tag(field.number, wireType)}); w.${method}(v);`;
}

function listStatement(field: DescField & { fieldKind: 'list' }, nestedRef: (message: DescMessage) => string): string {
  if (field.listKind === 'message') {
    return `for (let i = 0; i < v.length; i++) { ${messageStatement(field.number, nestedRef(field.message), 'v[i]')} }`;
  }
  const { method, wireType } = scalarOf(field);
  if (field.packed) {
    return `w.tag(${tag(field.number, LENGTH_DELIMITED)}); s = w.fork(); for (let i = 0; i < v.length; i++) w.${method}(v[i]); w.join(s);`;
  }
  return `for (let i = 0; i < v.length; i++) { w.tag(${tag(field.number, wireType)}); w.${method}(v[i]); }`;
}

/** One map entry, key `k` of object `v`: a message of the key (field 1) and the value (field 2), both always written. */
function mapEntryStatement(field: DescField & { fieldKind: 'map' }, nestedRef: (message: DescMessage) => string): string {
  const key = SCALARS[field.mapKey];
  const keyValue = mapKeyExpression(field.mapKey);
  let value: string;
  if (field.mapKind === 'message') value = messageStatement(2, nestedRef(field.message), 'v[k]');
  else {
    const { method, wireType } = field.mapKind === 'enum' ? SCALARS[ScalarType.INT32] : SCALARS[field.scalar];
    value = `w.tag(${tag(2, wireType)}); w.${method}(v[k]);`;
  }
  return `w.tag(${tag(field.number, LENGTH_DELIMITED)}); s = w.fork(); w.tag(${tag(1, key.wireType)}); w.${key.method}(${keyValue}); ${value} w.join(s);`;
}

/** A map key as its type from the object key `k` it is stored under, as protobuf-es reads it back. */
function mapKeyExpression(type: ScalarType): string {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 'k';
    case ScalarType.BOOL:
      return 'k === "true"';
    default:
      return 'Number.parseInt(k)';
  }
}

/** A nested message `value` with its tag and length; `t` holds where its length goes. */
function messageStatement(fieldNumber: number, writer: string, value: string): string {
  return `w.tag(${tag(fieldNumber, LENGTH_DELIMITED)}); t = w.fork(); ${writer}.write(w, ${value}); w.join(t);`;
}

/** The condition under which a field with implicit presence is written: its value is not the zero value. */
function notZero(field: DescField & { fieldKind: 'scalar' | 'enum' }): string {
  if (field.fieldKind === 'enum') return `v !== ${field.enum.values[0]?.number ?? 0}`;
  switch (field.scalar) {
    case ScalarType.STRING:
      return 'v !== ""';
    case ScalarType.BOOL:
      return 'v !== false';
    case ScalarType.BYTES:
      return 'v.byteLength !== 0';
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      // -0 is not the zero value (protobuf-es compares with Object.is).
      return '(v !== 0 || 1 / v < 0)';
    default:
      // Loosely, as protobuf-es compares: 0, 0n and "0" are all zero.
      return 'v != 0';
  }
}

function scalarOf(field: DescField): { method: string; wireType: number } {
  if (field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) return SCALARS[ScalarType.INT32];
  if (field.fieldKind === 'scalar' || (field.fieldKind === 'list' && field.listKind === 'scalar')) return SCALARS[field.scalar];
  throw unsupported(field, `a ${field.fieldKind} field here`);
}

function tag(fieldNumber: number, wireType: number): number {
  return ((fieldNumber << 3) | wireType) >>> 0;
}

function unsupported(field: DescField, what: string): Error {
  return new Error(`the wire writer does not write ${what} (${field.parent.typeName}.${field.name})`);
}
