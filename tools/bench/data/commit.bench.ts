// Committing dataset versions through the running data service (gRPC), on SQLite (standalone) and
// PostgreSQL (distributed) in one run. Per database:
// - a version of BENCH_FILES files (default 100,000, 1 KB each, all blobs already recorded as stored),
//   end to end as a client does it: FindMissingBlobs over every digest (10,000 a call), then
//   CommitDatasetVersion streaming the manifest in messages of 5,000 files (the target: under 60 s);
// - a commit on that version that changes 10 files (5 replaced, 5 added) and removes 5, sending only
//   the changes (the target: under 2 s), then a 10-file-change DiffDatasetVersions;
// - the baseline: the same BENCH_FILES rows written by raw multi-row INSERTs in one transaction on
//   the service's own connection (no gRPC, no checks, no blob lookup, no copy).
// Run: node tools/bench/run.cjs tools/bench/data/commit.bench.ts
import 'reflect-metadata';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Dialect, tableOf, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import type { CommitDatasetVersionRequestSchema } from '@trellis/proto/trellis/data/v1/data_service_pb';
import { createTestDatabase, testNatsConfig } from '@trellis/testing';
import { createHash, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { BlobEntity } from '../../../libs/data/src/blobs/blob.entity';
import { startTestStorage } from '../../../libs/data/src/blobs/test-storage';
import { dataService } from '../../../libs/data/src/data.definition';
import { VersionFileEntity } from '../../../libs/data/src/versions/version.entity';

const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const PER_MESSAGE = 5000;
const PROJECT = 'bench';

const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');
const fileAt = (i: number, generation = 0) => ({
  path: `shard-${String(i % 100).padStart(2, '0')}/file-${String(i).padStart(7, '0')}.json`,
  sizeBytes: 1024n,
  sha256: digestOf(`file ${i} generation ${generation}`),
  mediaType: 'application/json',
});
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Records every blob as stored in the instance, as uploads would have, in a few big statements. */
async function recordBlobs(service: RunningService, storeName: string, digests: string[]): Promise<void> {
  const dataSource = service.dataSource;
  const dialect = Dialect.of(dataSource);
  const now = Date.now();
  await dataSource.transaction(async (tx) => {
    for (let start = 0; start < digests.length; start += 5000) {
      const batch = digests.slice(start, start + 5000);
      const sql = dialect.upsert(tableOf(tx, BlobEntity), ['store_name', 'sha256', 'size', 'created_at', 'last_referenced_at'], batch.length, ['store_name', 'sha256']);
      await tx.query(sql, batch.flatMap((sha256) => [storeName, sha256, 1024, now, now]));
    }
  });
}

async function benchOne(label: string, env: Record<string, string>): Promise<void> {
  const storage = await startTestStorage();
  const platform = await TestPlatform.start({ ...env, ...storage.env }, { plugins: storage.plugins });
  try {
    const service = await platform.startService(dataService);
    const identity = { sub: 'bench', bindings: [{ project: PROJECT, role: 'editor' as const }] };
    const data = await platform.client(DataServiceDesc, service.grpcAddress, identity);
    const blobs = await platform.client(BlobServiceDesc, service.grpcAddress, identity);
    const files = Array.from({ length: FILES }, (_, i) => fileAt(i));
    const changed = [...Array.from({ length: 5 }, (_, i) => fileAt(i * 997, 1)), ...Array.from({ length: 5 }, (_, i) => fileAt(FILES + i))];
    const removed = Array.from({ length: 5 }, (_, i) => fileAt(i * 991 + 7).path).filter((path) => !changed.some((file) => file.path === path));
    await recordBlobs(service, 'default', [...files, ...changed].map((file) => file.sha256));
    const datasetId = (await data.createDataset({ projectId: PROJECT, name: `bench-${randomUUID()}` })).dataset!.id;

    const started = performance.now();
    for (let start = 0; start < FILES; start += 10_000) {
      const { missing: missingSha256s } = await blobs.findMissingBlobs({ projectId: PROJECT, sha256s: files.slice(start, start + 10_000).map((file) => file.sha256) });
      if (missingSha256s.length) throw new Error(`${missingSha256s.length} blobs missing`);
    }
    const checked = performance.now();
    const messages: MessageInitShape<typeof CommitDatasetVersionRequestSchema>[] = [{ part: { case: 'header', value: { datasetId, message: 'all' } } }];
    for (let start = 0; start < FILES; start += PER_MESSAGE) messages.push({ part: { case: 'changes', value: { put: files.slice(start, start + PER_MESSAGE) } } });
    const first = (await data.commitDatasetVersion(messages)).version!;
    const committed = performance.now();
    if (first.fileCount !== BigInt(FILES)) throw new Error(`version 1 holds ${first.fileCount} files`);

    const changeStarted = performance.now();
    const { missing: missingSha256s } = await blobs.findMissingBlobs({ projectId: PROJECT, sha256s: changed.map((file) => file.sha256) });
    if (missingSha256s.length) throw new Error('changed blobs missing');
    const second = (
      await data.commitDatasetVersion([
        { part: { case: 'header', value: { datasetId, parentVersion: first.version, message: '10 files changed' } } },
        { part: { case: 'changes', value: { put: changed, removedPaths: removed } } },
      ])
    ).version!;
    const changeDone = performance.now();
    if (second.fileCount !== BigInt(FILES + 5 - removed.length)) throw new Error(`version 2 holds ${second.fileCount} files`);
    const diffStarted = performance.now();
    const diff = await data.diffDatasetVersions({ datasetId, fromVersion: first.version, toVersion: second.version, pageSize: 1000 });
    const diffDone = performance.now();

    // Baseline: the same rows, raw multi-row INSERTs in one transaction, on the service's connection.
    const dialect = Dialect.of(service.dataSource);
    const scratch = randomUUID();
    const baselineStarted = performance.now();
    await service.dataSource.transaction(async (tx) => {
      for (let start = 0; start < FILES; start += 4000) {
        const batch = files.slice(start, start + 4000);
        const rows = batch.map((_, i) => `(${[1, 2, 3, 4, 5].map((k) => dialect.placeholder(i * 5 + k)).join(', ')})`);
        await tx.query(
          `INSERT INTO ${tableOf(tx, VersionFileEntity)} (version_id, path, size, sha256, media_type) VALUES ${rows.join(', ')}`,
          batch.flatMap((file) => [scratch, file.path, 1024, file.sha256, file.mediaType]),
        );
      }
    });
    const baseline = performance.now() - baselineStarted;
    await service.dataSource.query(`DELETE FROM ${tableOf(service.dataSource, VersionFileEntity)} WHERE version_id = ${dialect.placeholder(1)}`, [scratch]);

    console.log(`${label}:`);
    console.log(`  version of ${FILES} files end to end: ${seconds(committed - started)} (FindMissingBlobs ${seconds(checked - started)}, CommitDatasetVersion ${seconds(committed - checked)})`);
    console.log(`  commit of 10 changed files and ${removed.length} removed on it, with its FindMissingBlobs: ${seconds(changeDone - changeStarted)}`);
    console.log(`  DiffDatasetVersions of the two (${diff.changes.length} changes): ${(diffDone - diffStarted).toFixed(1)} ms`);
    console.log(`  baseline, ${FILES} raw row inserts in one transaction: ${seconds(baseline)}`);
  } finally {
    await platform.stop();
    await storage.close();
  }
}

async function main(): Promise<void> {
  console.log(`commit bench: ${FILES} files, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`);
  await benchOne('SQLite (standalone)', {});
  const postgres = await createTestDatabase();
  try {
    await benchOne('PostgreSQL (distributed)', { TRELLIS_MODE: 'distributed', TRELLIS_DATA_DATABASE_URL: postgres.config.url, ...testNatsConfig().env });
  } finally {
    await postgres.drop();
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
