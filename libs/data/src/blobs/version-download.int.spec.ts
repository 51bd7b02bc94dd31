import { status, type ServiceError } from '@grpc/grpc-js';
import { statusDetailsOf, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import { serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { createHash, randomBytes } from 'node:crypto';
import { dataService } from '../data.definition';
import { startTestStorage, type TestStorage } from './test-storage';

type Role = 'viewer' | 'editor';
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

async function collect(chunks: AsyncIterable<{ chunk: Uint8Array }>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const { chunk } of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The files of a tar archive by path, read as tar(1) would: ustar headers, pax `path` records, two zero blocks at the end. */
function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  let longPath: string | undefined;
  for (;;) {
    const header = archive.subarray(at, at + 512);
    expect(header.length).toBe(512);
    if (header.every((byte) => byte === 0)) break;
    const text = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    let sum = 0;
    header.forEach((byte, index) => (sum += index >= 148 && index < 156 ? 32 : byte));
    expect(parseInt(text(148, 8), 8)).toBe(sum);
    const size = parseInt(text(124, 12), 8);
    const body = archive.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (text(156, 1) === 'x') {
      longPath = /\d+ path=(.*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    files.set(longPath ?? text(0, 100), Buffer.from(body));
    longPath = undefined;
  }
  return files;
}

describe.each(serviceDatabases('data'))("a dataset version's files downloaded (%s)", (_database, databaseFor) => {
  let database: ServiceDatabase;
  let storage: TestStorage;
  let platform: TestPlatform;
  let service: RunningService;
  let blobsOf: (sub: string, role: Role, project?: string) => Promise<GrpcClient<(typeof BlobServiceDesc)['method']>>;
  let datasetId: string;
  const longPath = `deep/${'d'.repeat(120)}/data.bin`;
  const contents = new Map<string, Buffer>([
    ['a.csv', Buffer.from('x,y\n1,2\n')],
    ['images/cat.png', randomBytes(700 * 1024 + 3)],
    ['images/copy.png', Buffer.alloc(0)],
    [longPath, randomBytes(1500)],
  ]);

  beforeAll(async () => {
    database = await databaseFor();
    storage = await startTestStorage();
    platform = await TestPlatform.start({ ...database.env, ...storage.env }, { plugins: storage.plugins });
    service = await platform.startService(dataService);
    blobsOf = (sub, role, project = 'p1') => platform.client(BlobServiceDesc, service.grpcAddress, { sub, bindings: [{ project, role }] });
    const data = await platform.client(DataServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    const editor = await blobsOf('erin', 'editor');
    for (const bytes of contents.values()) {
      await editor.uploadBlob(
        (async function* () {
          yield { part: { case: 'header' as const, value: { projectId: 'p1', sha256: sha256Of(bytes), size: BigInt(bytes.length) } } };
          if (bytes.length) yield { part: { case: 'chunk' as const, value: bytes } };
        })(),
      );
    }
    datasetId = (await data.createDataset({ projectId: 'p1', name: 'downloads' })).dataset!.id;
    await data.commitDatasetVersion(
      (async function* () {
        yield { part: { case: 'header' as const, value: { datasetId, message: 'first' } } };
        const put = [...contents].map(([path, bytes]) => ({ path, sizeBytes: BigInt(bytes.length), sha256: sha256Of(bytes) }));
        yield { part: { case: 'changes' as const, value: { put } } };
      })(),
    );
  });

  afterAll(async () => {
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
  });

  it('streams one file of a version, or a range of it', async () => {
    const viewer = await blobsOf('vic', 'viewer');
    const cat = contents.get('images/cat.png')!;
    expect((await collect(viewer.downloadDatasetFile({ datasetId, version: 1n, path: 'images/cat.png' }))).equals(cat)).toBe(true);
    expect((await collect(viewer.downloadDatasetFile({ datasetId, version: 1n, path: 'images/cat.png', offset: 100n, length: 7n }))).equals(cat.subarray(100, 107))).toBe(true);
    const missing = await failure(collect(viewer.downloadDatasetFile({ datasetId, version: 1n, path: 'images/ca' })));
    expect(missing?.code).toBe(status.NOT_FOUND);
    expect(statusDetailsOf(missing!.metadata)?.reason).toBe('FILE_NOT_FOUND');
    expect(statusDetailsOf((await failure(collect(viewer.downloadDatasetFile({ datasetId, version: 2n, path: 'a.csv' }))))!.metadata)?.reason).toBe('VERSION_NOT_FOUND');
  });

  it('streams a whole version as a tar archive that holds every file, long paths included', async () => {
    const viewer = await blobsOf('vic', 'viewer');
    const files = untar(await collect(viewer.downloadDatasetVersionTar({ datasetId, version: 1n })));
    expect([...files.keys()]).toEqual([...contents.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const [path, bytes] of contents) expect(files.get(path)?.equals(bytes)).toBe(true);
    const images = untar(await collect(viewer.downloadDatasetVersionTar({ datasetId, version: 1n, pathPrefix: 'images/' })));
    expect([...images.keys()]).toEqual(['images/cat.png', 'images/copy.png']);
  });

  it("answers DATASET_NOT_FOUND to a caller of another project", async () => {
    const outsider = await blobsOf('oscar', 'viewer', 'p2');
    const refused = await failure(collect(outsider.downloadDatasetVersionTar({ datasetId, version: 1n })));
    expect(refused?.code).toBe(status.NOT_FOUND);
    expect(statusDetailsOf(refused!.metadata)?.reason).toBe('DATASET_NOT_FOUND');
    expect((await failure(collect(outsider.downloadDatasetFile({ datasetId, version: 1n, path: 'a.csv' }))))?.code).toBe(status.NOT_FOUND);
  });
});
