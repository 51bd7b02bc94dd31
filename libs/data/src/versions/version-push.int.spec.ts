import { status, type ServiceError } from '@grpc/grpc-js';
import { type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import type { ObjectStore } from '@trellis/plugin-sdk';
import { DataServiceDesc } from '@trellis/proto';
import { serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataService } from '../data.definition';
import { blobKey } from '../blobs/blob-store';
import { startTestStorage, type TestStorage } from '../blobs/test-storage';

type Client = GrpcClient<(typeof DataServiceDesc)['method']>;

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;
const BIG = Buffer.alloc(4 * 1024 * 1024 + 1, 'big/');

async function* pushRequests(header: { datasetId: string; parentVersion?: bigint; message?: string; tags?: string[]; fullManifest?: boolean }, archive: Buffer) {
  yield { part: { case: 'header' as const, value: header } };
  for (let at = 0; at < archive.length; at += 100_000) yield { part: { case: 'chunk' as const, value: archive.subarray(at, at + 100_000) } };
}

describe.each(serviceDatabases('data'))('CommitDatasetVersionTar (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let service: RunningService;
  let storage: TestStorage;
  let store: ObjectStore;
  let editor: Client;
  let viewer: Client;
  let dir: string;

  /** A tar archive of the files, made by GNU tar, with `extra` run in the tree first. */
  function archiveOf(files: Record<string, string | Buffer>, extra?: (tree: string) => void): Buffer {
    const tree = mkdtempSync(join(dir, 'tree-'));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(tree, path, '..'), { recursive: true });
      writeFileSync(join(tree, path), content);
    }
    extra?.(tree);
    return execFileSync('tar', ['-C', tree, '-c', '.'], { maxBuffer: 64 * 1024 * 1024 });
  }

  const keys = async () => (await store.list({ prefix: 'blobs/' })).objects.map((object) => object.key);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'version-push-'));
    database = await databaseFor();
    storage = await startTestStorage();
    platform = await TestPlatform.start({ ...database.env, ...storage.env }, { plugins: storage.plugins });
    service = await platform.startService(dataService);
    store = storage.stores.get('default')!;
    editor = await platform.client(DataServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    viewer = await platform.client(DataServiceDesc, service.grpcAddress, { sub: 'vic', bindings: [{ project: 'p1', role: 'viewer' }] });
  });

  afterAll(async () => {
    await platform?.stop();
    await storage?.close();
    await database?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('commits the files of an archive, stored under their digests once: a second push of the same bytes writes nothing', async () => {
    const { dataset } = await editor.createDataset({ projectId: 'p1', name: 'pushed' });
    const datasetId = dataset!.id;
    const files = { 'a.csv': 'x\n1\n', 'nested/deeper/big.bin': BIG, 'nested/copy.csv': 'x\n1\n' };
    const first = await editor.commitDatasetVersionTar(pushRequests({ datasetId, message: 'one call', tags: ['v1'] }, archiveOf(files)));
    expect(first).toMatchObject({ version: { version: 1n, fileCount: 3n, message: 'one call', tags: ['v1'] }, blobsWritten: 2n, bytesWritten: BigInt(4 + BIG.length) });
    const listed = await editor.listDatasetVersionFiles({ datasetId, version: 1n });
    expect(listed.files.map((file) => [file.path, file.sha256, file.sizeBytes])).toEqual([
      ['a.csv', sha256Of(Buffer.from('x\n1\n')), 4n],
      ['nested/copy.csv', sha256Of(Buffer.from('x\n1\n')), 4n],
      ['nested/deeper/big.bin', sha256Of(BIG), BigInt(BIG.length)],
    ]);
    expect((await keys()).sort()).toEqual([blobKey(sha256Of(Buffer.from('x\n1\n'))), blobKey(sha256Of(BIG))].sort());

    const again = await editor.commitDatasetVersionTar(pushRequests({ datasetId, parentVersion: 1n, fullManifest: true }, archiveOf({ 'renamed.bin': BIG })));
    expect(again).toMatchObject({ version: { version: 2n, parentVersion: 1n, fileCount: 1n }, blobsWritten: 0n, bytesWritten: 0n });
    expect((await keys()).length).toBe(2);
  });

  it('refuses links, FIFOs and archives cut short with INVALID_ARGUMENT naming the entry, and commits nothing', async () => {
    const { dataset } = await editor.createDataset({ projectId: 'p1', name: 'refused' });
    const datasetId = dataset!.id;
    const linked = await failure(editor.commitDatasetVersionTar(pushRequests({ datasetId }, archiveOf({ 'a.csv': 'a' }, (tree) => symlinkSync('a.csv', join(tree, 'link.csv'))))));
    expect(linked?.code).toBe(status.INVALID_ARGUMENT);
    expect(linked?.details).toContain('entry "./link.csv" is a symbolic link');

    const fifo = await failure(editor.commitDatasetVersionTar(pushRequests({ datasetId }, archiveOf({ 'a.csv': 'a' }, (tree) => execFileSync('mkfifo', [join(tree, 'pipe')])))));
    expect(fifo?.details).toContain('entry "./pipe" is a FIFO');

    const archive = archiveOf({ 'a.csv': 'a', 'b.csv': 'b'.repeat(2000) });
    const short = await failure(editor.commitDatasetVersionTar(pushRequests({ datasetId }, archive.subarray(0, 2048))));
    expect(short?.code).toBe(status.INVALID_ARGUMENT);
    expect(short?.details).toContain('cut short');

    expect((await editor.getDataset({ datasetId })).dataset?.latestVersion).toBe(0n);
  });

  it("checks the header and the caller's right before storing a byte", async () => {
    const { dataset } = await editor.createDataset({ projectId: 'p1', name: 'guarded' });
    const datasetId = dataset!.id;
    const before = await keys();
    const archive = archiveOf({ 'unseen.bin': 'never stored' });
    const denied = await failure(viewer.commitDatasetVersionTar(pushRequests({ datasetId }, archive)));
    expect(denied?.code).toBe(status.PERMISSION_DENIED);
    const badTag = await failure(editor.commitDatasetVersionTar(pushRequests({ datasetId, tags: ['12'] }, archive)));
    expect(badTag?.code).toBe(status.INVALID_ARGUMENT);
    expect(badTag?.details).toContain('header.tags[0]');
    const noParent = await failure(editor.commitDatasetVersionTar(pushRequests({ datasetId, parentVersion: 7n }, archive)));
    expect(noParent?.code).toBe(status.NOT_FOUND);
    expect(await keys()).toEqual(before);
  });
});
