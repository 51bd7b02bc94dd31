import { openDatabase } from '@trellis/platform';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { dataService } from '../data.definition';
import { BlobIntake } from './blob-intake';
import { BlobRepository } from './blob.repository';
import { blobKey, BlobStore } from './blob-store';

const MiB = 1024 * 1024;
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `size` bytes that differ from those of any other `label`. */
function labelled(label: string, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let at = 0; at < size; at += 64) bytes.write(`${label} ${at}`.padEnd(64, '.'), at, 'latin1');
  return bytes;
}

async function* inPieces(bytes: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 256 * 1024) yield bytes.subarray(at, at + 256 * 1024);
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

// Stores of each shape the storage contract allows: move and copy are optional.
const shapes: Array<[string, () => MemoryObjectStore]> = [
  ['a store that moves', () => new MemoryObjectStore()],
  ['a store that copies but cannot move', () => Object.assign(new MemoryObjectStore(), { move: undefined })],
  ['a store that can neither copy nor move', () => Object.assign(new MemoryObjectStore(), { move: undefined, copy: undefined })],
];

describe('BlobIntake of bytes too large to hash in memory', () => {
  let dataSource: DataSource;
  let repository: BlobRepository;

  beforeAll(async () => {
    dataSource = await openDatabase({ service: 'data', database: { type: 'sqlite', path: ':memory:' }, entities: dataService.entities, migrations: dataService.migrations });
    repository = new BlobRepository(dataSource);
  });

  afterAll(() => dataSource.destroy());

  const intakeFor = (store: ObjectStore) => new BlobIntake(new BlobStore({ open: async () => store } as never, repository), repository);

  it.each(shapes)('stores them under their digest and leaves nothing under their intake key (%s)', async (shape, make) => {
    const store = make();
    const bytes = labelled(shape, 5 * MiB + 7);
    const taken = await intakeFor(store).store('p1', 'default', bytes.length, inPieces(bytes));
    expect(taken).toEqual({ sha256: sha256Of(bytes), size: bytes.length, written: true });
    expect(store.keys()).toEqual([blobKey(sha256Of(bytes))]);
    expect((await readAll(store, blobKey(sha256Of(bytes)))).equals(bytes)).toBe(true);
  });

  it('renames the bytes where the store moves, copying nothing', async () => {
    const store = new MemoryObjectStore();
    const move = jest.spyOn(store, 'move');
    const copy = jest.spyOn(store, 'copy');
    const bytes = labelled('moved', 5 * MiB);
    await intakeFor(store).store('p1', 'default', bytes.length, inPieces(bytes));
    expect(move).toHaveBeenCalledTimes(1);
    expect(move.mock.calls[0][1]).toBe(blobKey(sha256Of(bytes)));
    expect(copy).not.toHaveBeenCalled();
  });

  it.each(shapes)('writes bytes the instance holds already no second time, and drops their intake key (%s)', async (shape, make) => {
    const store = make();
    const bytes = labelled(`again ${shape}`, 5 * MiB + 1);
    const intake = intakeFor(store);
    await intake.store('p1', 'default', bytes.length, inPieces(bytes));
    const stored = store.inspect(blobKey(sha256Of(bytes)));
    expect(await intake.store('p2', 'default', bytes.length, inPieces(bytes))).toMatchObject({ written: false });
    expect(store.keys()).toEqual([blobKey(sha256Of(bytes))]);
    expect(store.inspect(blobKey(sha256Of(bytes)))?.revision).toBe(stored?.revision);
  });
});
