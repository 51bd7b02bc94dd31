import { pipeline, type Readable } from 'node:stream';
import { type ByteRange, InvalidRangeError, ObjectIntegrityError, type ObjectKey, ObjectNotFoundError } from '@trellis/plugin-sdk';
import { EnvelopeAccess, MissingRecord } from './envelope-access';
import { HEADER_LENGTH, isEnvelope, plainSizeOf, type SegmentHeader } from './format';
import { plainTotal, rangeOf, type Segment, segmentsOf, wholeBody } from './layout';
import { type Opening, OpeningStream } from './opening-stream';

const ATTEMPTS = 3;

/**
 * The whole object, decrypted as it streams (or as stored when it is not encrypted). Resolves once
 * the data key is unwrapped and the first chunk verified. A key record that vanished between the
 * body's header and the record means the object was replaced meanwhile: the read starts again.
 */
export async function readWhole(access: EnvelopeAccess, key: ObjectKey): Promise<Readable> {
  for (let attempt = 1; ; attempt++) {
    const stored = await access.inner.get(key);
    const opening = new OpeningStream(key, { open: (header) => openingOf(access, key, header) });
    pipeline(stored, opening, () => undefined); // errors reach the reader through `opening`
    try {
      await opening.ready;
      return opening;
    } catch (err) {
      opening.destroy();
      if (!(err instanceof MissingRecord)) throw err;
      if (attempt === ATTEMPTS) throw new ObjectIntegrityError(key, err.message);
    }
  }
}

/**
 * Bytes `range` of the object, decrypted from the chunks that hold them; the chunks read are
 * verified. A header, record or chunk that belongs to another version than the one measured means
 * the object was replaced while being read: the read starts again.
 */
export async function readRange(access: EnvelopeAccess, key: ObjectKey, range: ByteRange): Promise<Readable> {
  const problem = rangeShapeProblem(range);
  if (problem) throw new InvalidRangeError(key, problem);
  for (let attempt = 1; ; attempt++) {
    const info = await access.inner.head(key);
    const prefix = info && (await access.prefixOf(key));
    if (!info || !prefix) throw new ObjectNotFoundError(key);
    if (!isEnvelope(prefix)) return access.inner.get(key, { range });
    let opening: OpeningStream | undefined;
    try {
      opening = await openRange(access, key, range, prefix, info.size);
      await opening.ready;
      return opening;
    } catch (err) {
      opening?.destroy();
      const replaced = err instanceof MissingRecord || (err instanceof ObjectIntegrityError && (await access.inner.head(key))?.etag !== info.etag);
      if (!replaced) throw err;
      if (attempt === ATTEMPTS) throw err instanceof MissingRecord ? new ObjectIntegrityError(key, err.message) : err;
    }
  }
}

async function openRange(access: EnvelopeAccess, key: ObjectKey, range: ByteRange, prefix: Buffer, storedSize: number): Promise<OpeningStream> {
  const header = access.header(key, prefix);
  const { dataKey, segments } = await bodyOf(access, key, header, storedSize);
  const total = plainTotal(segments);
  if (range.offset > 0 && range.offset >= total) {
    dataKey.fill(0);
    throw new InvalidRangeError(key, `offset ${range.offset} is at or past the end of the object (${total} bytes)`);
  }
  const end = Math.min(total, range.length === undefined ? total : range.offset + range.length);
  if (end === range.offset) {
    // Offset 0 of an empty object: nothing to read.
    const empty = new OpeningStream(key, { opening: { dataKey, header, steps: [] } });
    empty.end();
    return empty;
  }
  const plan = rangeOf(segments, range.offset, end);
  const first = plan.segment.storedOffset === 0 ? header : access.header(key, await access.storedRange(key, plan.segment.storedOffset, HEADER_LENGTH));
  const opening = new OpeningStream(key, { opening: { dataKey, header: first, steps: plan.steps } });
  pipeline(await access.storedRange(key, plan.storedStart, plan.storedEnd - plan.storedStart, true), opening, () => undefined);
  return opening;
}

/** The data key and segments of the encrypted body whose first header is `header`. */
async function bodyOf(access: EnvelopeAccess, key: ObjectKey, header: SegmentHeader, storedSize: number): Promise<{ dataKey: Uint8Array; segments: Segment[] }> {
  const { record, dataKey } = await access.dataKeyOf(key, header);
  if (header.partNumber !== 0) return { dataKey, segments: access.partsOf(key, header, record, dataKey) };
  const size = plainSizeOf(storedSize);
  if (size === undefined) throw new ObjectIntegrityError(key, `no encrypted object is ${storedSize} bytes long`);
  return { dataKey, segments: segmentsOf([[0, size]]) };
}

/** How a whole read goes on once the body's first header is read. */
async function openingOf(access: EnvelopeAccess, key: ObjectKey, header: SegmentHeader): Promise<Opening> {
  const { record, dataKey } = await access.dataKeyOf(key, header);
  if (header.partNumber === 0) return { dataKey, header, steps: 'to-end' };
  return { dataKey, header, steps: wholeBody(access.partsOf(key, header, record, dataKey)) };
}

function rangeShapeProblem(range: ByteRange): string | undefined {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) return `offset must be an integer of at least 0, got ${range.offset}`;
  if (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 1)) return `length must be an integer of at least 1, got ${range.length}`;
  return undefined;
}
