import { randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { CHUNK_SIZE, encodeHeader, HEADER_LENGTH, isEnvelope, MAGIC, parseHeader, plainSizeOf, sealedSize, type SegmentHeader } from './format';
import { rangeOf, segmentsOf } from './layout';
import { OpeningStream } from './opening-stream';
import { PlainTally, sealSegment } from './seal';

const MiB = 1024 * 1024;

describe('the encrypted body format', () => {
  it('gives back the plaintext size of any one-segment body from its stored size, and no size for impossible lengths', () => {
    const sizes = [0, 1, 100, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 5 * MiB + 3, 1024 * MiB];
    for (const size of sizes) expect(plainSizeOf(sealedSize(size))).toBe(size);
    expect(sealedSize(0)).toBe(HEADER_LENGTH + 16);
    expect(sealedSize(CHUNK_SIZE + 1)).toBe(HEADER_LENGTH + CHUNK_SIZE + 1 + 32);
    for (const stored of [0, HEADER_LENGTH, HEADER_LENGTH + 15, sealedSize(CHUNK_SIZE) + 1, sealedSize(CHUNK_SIZE) + 16]) expect(plainSizeOf(stored)).toBeUndefined();
  });

  it('recognises its marker with one byte altered or cut inside it, and nothing that merely resembles it', () => {
    const header = encodeHeader(randomBytes(16), randomBytes(16), 0);
    expect(isEnvelope(header)).toBe(true);
    for (let at = 0; at < MAGIC.length; at++) expect(isEnvelope(Buffer.from(header).fill(0x41, at, at + 1))).toBe(true);
    expect(isEnvelope(header.subarray(0, 4))).toBe(true);
    expect(isEnvelope(header.subarray(0, 3))).toBe(false);
    expect(isEnvelope(Buffer.from(header).fill(0x41, 0, 2))).toBe(false);
    for (const text of ['PAR1', '{"a":1}', 'PK\u0003\u0004 zip', '\u0089PNG\r\n\u001a\n', '']) expect(isEnvelope(Buffer.from(text, 'latin1'))).toBe(false);
  });

  it('parses the header it writes and names what is wrong with others', () => {
    const objectId = randomBytes(16);
    const salt = randomBytes(16);
    expect(parseHeader(encodeHeader(objectId, salt, 7))).toMatchObject({ objectId, salt, partNumber: 7 });
    const newer = encodeHeader(objectId, salt, 0);
    newer[MAGIC.length] = 2;
    expect(parseHeader(newer)).toBe('a segment header has format version 2; this SDK reads version 1');
  });

  it('plans a range over parts from the chunks that hold it', () => {
    const segments = segmentsOf([
      [1, 5 * MiB],
      [2, 1000],
    ]);
    const plan = rangeOf(segments, 5 * MiB - 10, 5 * MiB + 20);
    expect(plan.segment.partNumber).toBe(1);
    expect(plan.storedStart).toBe(HEADER_LENGTH + 79 * (CHUNK_SIZE + 16));
    expect(plan.storedEnd).toBe(sealedSize(5 * MiB) + HEADER_LENGTH + 1000 + 16);
    expect([...plan.steps]).toEqual([
      { type: 'chunk', partNumber: 1, index: 79, sealedLength: CHUNK_SIZE + 16, final: true, keepFrom: CHUNK_SIZE - 10, keepTo: CHUNK_SIZE },
      { type: 'header', partNumber: 2 },
      { type: 'chunk', partNumber: 2, index: 0, sealedLength: 1016, final: true, keepFrom: 0, keepTo: 20 },
    ]);
  });
});

describe('sealing and opening streams', () => {
  it('hold a few chunks at a time, so reading 8 MiB of a 1 GiB body produces little more of it', async () => {
    let produced = 0;
    const source = Readable.from(
      (function* () {
        for (; produced < 1024 * MiB; produced += MiB) yield Buffer.alloc(MiB, 1);
      })(),
    );
    const dataKey = randomBytes(32);
    const salt = randomBytes(16);
    const header: SegmentHeader = { objectId: randomBytes(16), salt, partNumber: 0, bytes: Buffer.alloc(0) };
    header.bytes = encodeHeader(header.objectId, salt, 0);
    const sealed = Readable.from(sealSegment(source, dataKey, header, new PlainTally()), { objectMode: false });
    const opening = new OpeningStream('big', { open: async (read) => ({ dataKey: Buffer.from(dataKey), header: read, steps: 'to-end' }) });
    pipeline(sealed, opening, () => undefined);
    let read = 0;
    for await (const piece of opening) {
      expect((piece as Buffer).every((b) => b === 1)).toBe(true);
      if ((read += (piece as Buffer).length) >= 8 * MiB) break;
    }
    expect(read).toBeGreaterThanOrEqual(8 * MiB);
    expect(produced).toBeLessThan(16 * MiB);
  });
});
