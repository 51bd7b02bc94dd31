import type { DescMessage, Message, MessageShape } from '@bufbuild/protobuf';

/**
 * What the wire writer takes for a message of `Desc`: its protobuf-es shape with every field named
 * (undefined where the field has presence and is unset), int64 fields as a bigint or a number, and
 * plain objects in place of nested messages. Naming every field is the point: a field added to the
 * .proto fails type-checking in each fast-path writer until it writes the field, where a message
 * built with create() would silently leave it out. Extra properties are ignored, so a database row
 * whose columns carry the fields' names can be passed as it is.
 */
export type WireMessage<Desc extends DescMessage> = WireShape<MessageShape<Desc>>;

/** A protobuf-es message type with its fields mapped by WireValue. */
export type WireShape<T> = { [K in Exclude<keyof T, '$typeName' | '$unknown'>]: WireValue<T[K]> };

/** A field's value as the wire writer takes it (see {@link WireMessage}). */
export type WireValue<T> = T extends bigint
  ? bigint | number
  : T extends Uint8Array
    ? Uint8Array
    : T extends Message
      ? WireShape<T>
      : T extends ReadonlyArray<infer E>
        ? ReadonlyArray<WireValue<E>>
        : T extends object
          ? string extends keyof T
            ? { readonly [key: string]: WireValue<T[string & keyof T]> }
            : number extends keyof T
              ? { readonly [key: number]: WireValue<T[number & keyof T]> }
              : WireOneof<T>
          : T;

/** A oneof's `{ case, value }` with the value mapped by WireValue. */
type WireOneof<T> = T extends { case: undefined } ? { case: undefined; value?: undefined } : T extends { case: string; value: unknown } ? { case: T['case']; value: WireValue<T['value']> } : T;
