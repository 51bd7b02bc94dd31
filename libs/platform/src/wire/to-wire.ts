import type { DescMessage, UnknownField } from '@bufbuild/protobuf';
import { messageWriter } from './message-writer';
import { WireBuffer } from './wire-buffer';
import type { WireMessage } from './wire-message';

/**
 * `message` in protobuf's binary format: the bytes protobuf-es' `toBinary(schema, create(schema,
 * message))` writes, written in one pass by a writer compiled from `schema`'s descriptor (see
 * {@link WireMessage} for what it takes). `expectedBytes` sizes the buffer at first; a bigger
 * message costs a copy per doubling. The result is a view of a buffer of its own.
 */
export function toWire<Desc extends DescMessage>(schema: Desc, message: WireMessage<Desc>, expectedBytes = 1024): Uint8Array {
  const buffer = new WireBuffer(expectedBytes);
  messageWriter(schema)(buffer, message);
  return buffer.finish();
}

/**
 * Field `field` of a `schema` message written ahead of the message itself, as its unknown fields:
 * set `message.$unknown` to the result, and protobuf-es' toBinary copies the bytes as they are
 * after the field's first tag, so a peer decodes the field as if protobuf-es had written it (after
 * the message's other fields). This is how a handler answers a page of thousands of messages
 * without building them: `response.$unknown = wireField(SearchRunsResponseSchema, 'runs', runs)`.
 * Nothing is returned when the field would not be written (an empty list, a zero value).
 */
export function wireField<Desc extends DescMessage, Name extends keyof WireMessage<Desc> & string>(
  schema: Desc,
  field: Name,
  value: WireMessage<Desc>[Name],
  expectedBytes = 64 * 1024,
): UnknownField[] {
  const buffer = new WireBuffer(expectedBytes);
  // The message's other fields are undefined, and the writer leaves undefined fields out.
  messageWriter(schema)(buffer, { [field]: value });
  const bytes = buffer.finish();
  if (bytes.length === 0) return [];
  let tag = 0;
  let tagLength = 0;
  do tag += (bytes[tagLength] & 0x7f) * 2 ** (7 * tagLength);
  while (bytes[tagLength++] >= 0x80);
  return [{ no: Math.floor(tag / 8), wireType: tag & 7, data: bytes.subarray(tagLength) }];
}
