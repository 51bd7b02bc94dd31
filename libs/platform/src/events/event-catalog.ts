import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { checkSubject } from './subject-match';

/** Subjects (`trellis.<service>.v1.<entity>.<verb>`) mapped to the generated schema of the message each carries. */
export type EventTable = Readonly<Record<string, DescMessage>>;

/** The subjects of a table. */
export type EventSubject<T extends EventTable> = keyof T & string;

/** The message published on `S` in table `T`. */
export type EventMessage<T extends EventTable, S extends EventSubject<T>> = MessageShape<T[S]>;

/** Who and what caused an event; copied into its envelope. */
export interface EventContext {
  projectId?: string;
  /** The principal that caused the change. */
  actor?: string;
  /** The id of the request that caused the change. */
  requestId?: string;
}

/** One event of a catalog: a subject of the table and a message of that subject's schema. */
export type CatalogEvent<T extends EventTable, S extends EventSubject<T>> = EventContext & {
  subject: S;
  message: EventMessage<T, S>;
};

/**
 * A service's events: which subjects it publishes and the protobuf message each one carries. Made
 * by {@link defineEvents}; the typed publish and subscribe APIs take it, so a message that does not
 * belong to its subject fails type-checking, and (for callers without types) is refused at run time.
 */
export interface EventCatalog<T extends EventTable> {
  /** The table the catalog was defined with. */
  readonly table: T;
  /** Every subject, in the order of the table. */
  readonly subjects: ReadonlyArray<EventSubject<T>>;
  /** The schema of `subject`'s message; throws for a subject that is not in the table. */
  schemaOf<S extends EventSubject<T>>(subject: S): T[S];
  /**
   * The schema of `subject`'s message after checking at run time that `message` is one of it;
   * throws naming the subject and both message types otherwise.
   */
  checked<S extends EventSubject<T>>(subject: S, message: EventMessage<T, S>): T[S];
}

const SUBJECT_SHAPE = /^trellis\.[a-z][a-z0-9_]*\.v[0-9]+(\.[a-z0-9_]+){2,}$/;

/**
 * Declares a service's events: one entry per subject, valued by the generated schema of its
 * message, e.g. `defineEvents({ 'trellis.tracking.v1.run.finished': RunFinishedEventSchema })`.
 *
 * @throws if a subject is not `trellis.<service>.v<n>.<entity>.<verb>` without wildcards, or a
 *   value is not a message schema.
 */
export function defineEvents<const T extends EventTable>(table: T): EventCatalog<T> {
  for (const [subject, schema] of Object.entries(table)) {
    checkSubject(subject, { wildcards: false });
    if (!SUBJECT_SHAPE.test(subject)) {
      throw new Error(`event subject "${subject}" must read trellis.<service>.v<n>.<entity>.<verb> (lowercase)`);
    }
    if (schema?.kind !== 'message') throw new Error(`the schema of event subject "${subject}" is not a generated message schema`);
  }
  const subjects = Object.freeze(Object.keys(table)) as ReadonlyArray<EventSubject<T>>;
  const schemaOf = <S extends EventSubject<T>>(subject: S): T[S] => {
    if (!Object.hasOwn(table, subject)) {
      throw new Error(`"${String(subject)}" is not an event subject of this catalog (${subjects.join(', ')})`);
    }
    return table[subject];
  };
  return {
    table,
    subjects,
    schemaOf,
    checked(subject, message) {
      const schema = schemaOf(subject);
      const typeName = (message as { $typeName?: unknown } | undefined)?.$typeName;
      if (typeName !== schema.typeName) {
        throw new Error(`event subject "${subject}" carries ${schema.typeName}, not ${String(typeName ?? 'a protobuf message')}`);
      }
      return schema;
    },
  };
}
