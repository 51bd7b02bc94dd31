import { getOption, hasOption, isFieldSet, ScalarType, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import {
  BytesRulesSchema,
  field as fieldRules,
  FieldRulesSchema,
  MapRulesSchema,
  message as messageRules,
  oneof as oneofRules,
  RepeatedRulesSchema,
  StringRulesSchema,
  type FieldRules,
} from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';

/** Whether a value surely keeps within its field's limits (false: it may not). */
type Check = (value: unknown) => boolean;

type TypedRules = FieldRules['type'];

/** The rules a check understands, by FieldRules case: the fields of them it reads. */
const LIMIT_RULES: Partial<Record<NonNullable<TypedRules['case']>, { schema: DescMessage; reads: readonly string[] }>> = {
  string: { schema: StringRulesSchema, reads: ['max_len'] },
  bytes: { schema: BytesRulesSchema, reads: ['max_len'] },
  repeated: { schema: RepeatedRulesSchema, reads: ['max_items', 'items'] },
  map: { schema: MapRulesSchema, reads: ['max_pairs', 'keys', 'values'] },
};

/** A type has a rule that is not one of the limits a check understands: protovalidate must decide. */
class NotALimit extends Error {}

/**
 * A check, planned once per message type, that a decoded message of `schema` surely keeps within
 * the limits its `buf.validate` rules declare (string and bytes `max_len`, repeated `max_items`,
 * map `max_pairs`, and the same on list items and map keys and values, through nested messages),
 * so that protovalidate, which walks a message through reflection, need not. It answers false for
 * a message that may break a limit (protovalidate then names the violations); it is undefined for
 * a type with any other rule (protovalidate always decides).
 */
export function withinLimitsCheck(schema: DescMessage): ((message: Message) => boolean) | undefined {
  try {
    return messageCheck(schema, new Map()) ?? (() => true);
  } catch (error) {
    if (error instanceof NotALimit) return undefined;
    throw error;
  }
}

/** A message type's check while it is planned, and once it is. */
interface Planned {
  done: boolean;
  check?: Check;
}

/** The check of a message type; undefined when nothing in it has rules. */
function messageCheck(schema: DescMessage, planned: Map<DescMessage, Planned>): Check | undefined {
  const known = planned.get(schema);
  // A type met again while it is planned holds itself (google.protobuf.Value): its check is looked up when a value is checked.
  if (known) return known.done ? known.check : (value) => known.check?.(value) ?? true;
  if (hasOption(schema, messageRules) || schema.oneofs.some((oneof) => hasOption(oneof, oneofRules))) throw new NotALimit(schema.typeName);
  const planning: Planned = { done: false };
  planned.set(schema, planning);
  const checks = schema.fields.flatMap((field) => {
    const check = fieldCheck(field, planned);
    return check ? [{ read: reader(field), check }] : [];
  });
  if (checks.length > 0) {
    planning.check = (message) =>
      checks.every(({ read, check }) => {
        const value = read(message as Record<string, unknown>);
        return value === undefined || check(value);
      });
  }
  planning.done = true;
  return planning.check;
}

/** Reads a field off a protobuf-es message; a oneof member only when it is the case set. */
function reader(field: DescField): (message: Record<string, unknown>) => unknown {
  const { oneof } = field;
  if (!oneof) return (message) => message[field.localName];
  return (message) => {
    const chosen = message[oneof.localName] as { case?: string; value?: unknown };
    return chosen.case === field.localName ? chosen.value : undefined;
  };
}

function fieldCheck(field: DescField, planned: Map<DescMessage, Planned>): Check | undefined {
  const rules = hasOption(field, fieldRules) ? limitsOf(getOption(field, fieldRules)) : undefined;
  const named = `${field.parent.typeName}.${field.name}`;
  switch (field.fieldKind) {
    case 'scalar':
      return rules && scalarCheck(field.scalar, rules, named);
    case 'enum':
    case 'message':
      if (rules) throw new NotALimit(`${named}: ${rules.case} rules`);
      return field.fieldKind === 'message' ? messageCheck(field.message, planned) : undefined;
    case 'list': {
      if (rules && rules.case !== 'repeated') throw new NotALimit(`${named}: ${rules.case} rules on a list`);
      const max = rules && setLimit(rules.value, RepeatedRulesSchema.field.maxItems);
      const items = all(partCheck(rules?.value.items, field.listKind === 'scalar' ? field.scalar : undefined, named), field.listKind === 'message' ? messageCheck(field.message, planned) : undefined);
      if (max === undefined && !items) return undefined;
      return (value) => {
        const list = value as readonly unknown[];
        return (max === undefined || list.length <= max) && (!items || list.every(items));
      };
    }
    case 'map': {
      if (rules && rules.case !== 'map') throw new NotALimit(`${named}: ${rules.case} rules on a map`);
      const max = rules && setLimit(rules.value, MapRulesSchema.field.maxPairs);
      const keys = partCheck(rules?.value.keys, field.mapKey, named);
      const values = all(partCheck(rules?.value.values, field.mapKind === 'scalar' ? field.scalar : undefined, named), field.mapKind === 'message' ? messageCheck(field.message, planned) : undefined);
      if (max === undefined && !keys && !values) return undefined;
      return (value) => {
        const entries = Object.entries(value as Record<string, unknown>);
        return (max === undefined || entries.length <= max) && entries.every(([key, entry]) => (!keys || keys(key)) && (!values || values(entry)));
      };
    }
  }
}

/** The check of a list's items or a map's keys or values by their own rules, when they have some; `scalar` is undefined for enums and messages. */
function partCheck(given: FieldRules | undefined, scalar: ScalarType | undefined, named: string): Check | undefined {
  const rules = given && limitsOf(given);
  if (!rules) return undefined;
  if (scalar === undefined) throw new NotALimit(`${named}: ${rules.case} rules on enums or messages`);
  return scalarCheck(scalar, rules, named);
}

/** A string's or bytes' `max_len`. A string's limit counts code points, of which it never has more than its UTF-16 length. */
function scalarCheck(scalar: ScalarType, rules: TypedRules, named: string): Check | undefined {
  let max: number | undefined;
  if (rules.case === 'string' && scalar === ScalarType.STRING) max = setLimit(rules.value, StringRulesSchema.field.maxLen);
  else if (rules.case === 'bytes' && scalar === ScalarType.BYTES) max = setLimit(rules.value, BytesRulesSchema.field.maxLen);
  else throw new NotALimit(`${named}: ${rules.case} rules on a ${ScalarType[scalar]}`);
  if (max === undefined) return undefined;
  const limit = max;
  return (value) => (value as string | Uint8Array).length <= limit;
}

function all(first: Check | undefined, second: Check | undefined): Check | undefined {
  if (!first || !second) return first ?? second;
  return (value) => first(value) && second(value);
}

/** The typed part of `rules` when each rule set in them is a limit a check understands; undefined when none is set. */
function limitsOf(rules: FieldRules): TypedRules | undefined {
  for (const field of FieldRulesSchema.fields) {
    if (field.oneof?.localName !== 'type' && isFieldSet(rules, field)) throw new NotALimit(`field rule ${field.name}`);
  }
  const { type } = rules;
  if (type.case === undefined) return undefined;
  const understood = LIMIT_RULES[type.case];
  if (!understood) throw new NotALimit(`${type.case} rules`);
  // Predefined rules are extensions of the rules message: they arrive as its unknown fields.
  if (rules.$unknown?.length || type.value.$unknown?.length) throw new NotALimit('predefined rules');
  for (const field of understood.schema.fields) {
    if (!understood.reads.includes(field.name) && isFieldSet(type.value, field)) throw new NotALimit(`${type.case}.${field.name}`);
  }
  return type;
}

/** A limit of a rules message when it is set (proto2: an unset one reads as 0). */
function setLimit(rules: Message, field: DescField): number | undefined {
  return isFieldSet(rules, field) ? Number((rules as unknown as Record<string, bigint>)[field.localName]) : undefined;
}
