import { eventually, platformClient, seedProject, seedUser, sharedPlatform, startTcpProxy } from '@trellis/testing';
import type { ListBlobUploadPartsResponseJson } from '@trellis/proto/trellis/data/v1/blob_service_pb';
import type { DatasetFileChangeJson, DatasetVersionJson } from '@trellis/proto/trellis/data/v1/resources_pb';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from './exit-codes';
import { jsonOf, newConfigDir, runCli, type CliRun } from '../test/run-cli';

const MiB = 1024 * 1024;

interface Pushed {
  version: DatasetVersionJson;
  uploadedFiles: number;
  uploadedBytes: string;
  skippedFiles: number;
  digests: { cached: number; hashedFirst: number; hashedWhileSent: number };
}

/** A directory with the given files (paths may hold `/`). */
function directoryWith(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-datasets-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** `mib` MiB of bytes that differ in every MiB (the block's number is written into it). */
function patterned(mib: number, label: string): Buffer {
  const block = Buffer.alloc(MiB, `${label} trellis dataset bytes `);
  return Buffer.concat(Array.from({ length: mib }, (_, i) => Buffer.concat([Buffer.from(`${label} block ${i};`), block]).subarray(0, MiB)));
}

/**
 * A gateway in front of the shared one whose route without a digest answers another digest than
 * the bytes have, as bytes changed on the way would make it: every other request goes through.
 */
async function gatewayAnsweringAnotherDigest(): Promise<{ url: string; server: Server }> {
  const target = new URL(sharedPlatform().gateway);
  const server = createServer((incoming, answer) => {
    if (incoming.method === 'PUT' && /^\/v1\/data\/projects\/[^/]+\/blobs$/.test(incoming.url ?? '')) {
      incoming.resume().on('end', () => answer.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sha256: 'f'.repeat(64), alreadyStored: false })));
      return;
    }
    const forwarded = request({ host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (response) => {
      answer.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(answer);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('trellis datasets', () => {
  let project: string;
  let run: (args: string[], extra?: CliRun) => ReturnType<typeof runCli>;
  beforeAll(async () => {
    const { projectId } = await seedProject('cli-datasets');
    project = projectId;
    run = (args, extra = {}) => runCli(args, { ...extra, env: { TRELLIS_PROJECT: projectId, ...extra.env } });
  });

  it('pushes a directory as a version, and pushed again uploads nothing and says so', async () => {
    const dir = directoryWith({ 'train.csv': 'x,y\n1,2\n3,4\n', 'docs/readme.txt': 'churn data\n' });
    const first = await run(['datasets', 'push', 'pushed', dir, '--create', '-m', 'first cut', '-t', 'golden', '-o', 'json']);
    expect(jsonOf<Pushed>(first)).toMatchObject({ uploadedFiles: 2, uploadedBytes: '23', skippedFiles: 0, version: { version: '1', fileCount: '2', tags: ['golden'], message: 'first cut' } });
    // stderr is not a terminal here: notes, no bar.
    expect(first.stderr).toContain('0 of 2 files already stored; uploading 2 files (23 B)');
    expect(first.stderr).not.toMatch(/[█░]/);

    const again = await run(['datasets', 'push', 'pushed', dir]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing to upload: all 2 files are on the gateway already');
    expect(again.stdout).toMatch(/^Pushed datasets:\/pushed\/2 \(version 2\): 2 files, 23 B; uploaded 0 files \(0 B\), 2 already stored\.\n$/);

    const files = jsonOf<{ files: Array<{ path: string; mediaType: string }> }>(await run(['datasets', 'show', 'pushed@golden', '-o', 'json'])).files;
    expect(files.map((file) => [file.path, file.mediaType])).toEqual([
      ['docs/readme.txt', 'text/plain'],
      ['train.csv', 'text/csv'],
    ]);

    // Profiles come after the commit: the command shows the CSV's columns once they are ready.
    const profile = await eventually(async () => {
      const answer = jsonOf<{ status: string; files: Array<{ path: string; columns?: Array<{ name: string; max?: number }> }> }>(await run(['datasets', 'profile', 'pushed:1', '-o', 'json']));
      expect(answer.status).toBe('PROFILE_STATUS_READY');
      return answer;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    expect(profile.files.find((file) => file.path === 'train.csv')?.columns?.map((column) => [column.name, column.max])).toEqual([
      ['x', 3],
      ['y', 4],
    ]);
  });

  it('sends a large new file while it hashes it, and pushed again unchanged reads and sends nothing', async () => {
    const big = patterned(20, 'hashed while sent');
    const dir = directoryWith({ 'big.bin': big, 'small.csv': 'a,b\n1,2\n' });
    const configDir = newConfigDir();
    const first = await run(['datasets', 'push', 'streamed', dir, '--create', '-o', 'json'], { configDir });
    expect(jsonOf<Pushed>(first)).toMatchObject({ uploadedFiles: 2, uploadedBytes: String(big.length + 8), skippedFiles: 0, digests: { cached: 0, hashedFirst: 1, hashedWhileSent: 1 } });
    expect(first.stderr).toContain('digests: 1 file hashed first; 1 file (20.0 MiB) hashed while it is sent');
    const shown = jsonOf<{ files: Array<{ path: string; sha256: string }> }>(await run(['datasets', 'show', 'streamed:1', '-o', 'json']));
    expect(shown.files.find((file) => file.path === 'big.bin')?.sha256).toBe(createHash('sha256').update(big).digest('hex'));
    expect(statSync(join(configDir, 'digests.json')).mode & 0o777).toBe(0o600);

    const again = await run(['datasets', 'push', 'streamed', dir, '-o', 'json'], { configDir });
    expect(jsonOf<Pushed>(again)).toMatchObject({ uploadedFiles: 0, uploadedBytes: '0', skippedFiles: 2, digests: { cached: 2, hashedFirst: 0, hashedWhileSent: 0 }, version: { version: '2' } });
    expect(again.stderr).toContain('digests: 2 files unchanged since they were last hashed, not read');

    // A file rewritten in place (same size, new bytes) is read again: the cache goes by its modification time.
    const changed = patterned(20, 'rewritten');
    writeFileSync(join(dir, 'big.bin'), changed);
    const third = await run(['datasets', 'push', 'streamed', dir, '-o', 'json'], { configDir });
    expect(jsonOf<Pushed>(third)).toMatchObject({ uploadedFiles: 1, uploadedBytes: String(changed.length), skippedFiles: 1, digests: { cached: 1, hashedFirst: 0, hashedWhileSent: 1 } });
    const pulled = mkdtempSync(join(tmpdir(), 'trellis-cli-pull-'));
    expect((await run(['datasets', 'pull', 'streamed', '--to', pulled])).code).toBe(0);
    expect(readFileSync(join(pulled, 'big.bin')).equals(changed)).toBe(true);
  });

  it('refuses to commit a file hashed while sent when the gateway stored it under another digest', async () => {
    const gateway = await gatewayAnsweringAnotherDigest();
    try {
      const pushed = await run(['datasets', 'push', 'garbled', directoryWith({ 'big.bin': patterned(16, 'garbled') }), '--create'], { env: { TRELLIS_URL: gateway.url } });
      expect(pushed.code).toBe(EXIT.failed);
      expect(pushed.stderr).toContain('big.bin: the gateway stored the bytes sent as sha256 ffffffffffff..., but they were read here as');
      expect(pushed.stderr).toContain('Nothing was committed; push again');
    } finally {
      gateway.server.close();
    }
    const log = jsonOf<unknown[]>(await run(['datasets', 'log', 'garbled', '-o', 'json']));
    expect(log).toEqual([]);
  });

  it('resumes a push whose connection dropped: a rerun sends only the files and parts the gateway lacks', async () => {
    const big = patterned(80, 'resume');
    const dir = directoryWith({ 'labels.csv': 'id,label\n1,a\n', 'big.bin': big });
    const configDir = newConfigDir();
    const proxy = await startTcpProxy(sharedPlatform().gateway);
    try {
      const through = { configDir, env: { TRELLIS_URL: proxy.url('http') } };
      const partsArgs = ['--parts-over', '16', '--part-size', '8'];
      const interrupted = run(['datasets', 'push', 'resumed', dir, '--create', ...partsArgs], through);
      // Drop the link once the gateway holds the big file's first part (the small file went before it).
      const uploadId = await eventually(
        async () => {
          const state = JSON.parse(readFileSync(join(configDir, 'uploads.json'), 'utf8')) as { uploads: Record<string, { uploadId: string }> };
          const [open] = Object.values(state.uploads);
          const { parts = [] } = await platformClient().call<ListBlobUploadPartsResponseJson>('trellis.data.v1.BlobService/ListBlobUploadParts', { uploadId: open.uploadId });
          expect(parts.length).toBeGreaterThan(0);
          return open.uploadId;
        },
        { timeoutMs: 30_000 },
      );
      proxy.block();
      const dropped = await interrupted;
      expect(dropped.code).toBe(EXIT.unavailable);
      expect(dropped.stderr).toContain('run the same push again to send only the rest');

      const { parts = [] } = await platformClient().call<ListBlobUploadPartsResponseJson>('trellis.data.v1.BlobService/ListBlobUploadParts', { uploadId });
      const kept = parts.length;
      expect(kept).toBeLessThan(10);
      proxy.unblock();
      const resumed = await run(['datasets', 'push', 'resumed', dir, ...partsArgs, '-o', 'json'], through);
      expect(resumed.stderr).toContain(`resuming: 1 of 2 files already uploaded, ${kept} parts of unfinished files; uploading 1 file`);
      expect(jsonOf<Pushed>(resumed)).toMatchObject({ uploadedFiles: 1, uploadedBytes: String(big.length - kept * 8 * MiB), skippedFiles: 1, version: { version: '1', fileCount: '2' } });

      const pulled = mkdtempSync(join(tmpdir(), 'trellis-cli-pull-'));
      expect((await run(['datasets', 'pull', 'resumed', '--to', pulled])).code).toBe(0);
      expect(readFileSync(join(pulled, 'big.bin')).equals(big)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('pulls a version byte for byte, and a pull run again keeps whole files and continues a partial one', async () => {
    const content = { 'a.csv': 'k,v\n1,2\n', 'nested/deep/b.bin': patterned(2, 'pull') };
    await run(['datasets', 'push', 'pulled', directoryWith(content), '--create']);
    const to = mkdtempSync(join(tmpdir(), 'trellis-cli-pull-'));
    const first = await run(['datasets', 'pull', 'pulled:1', '--to', to, '-o', 'json']);
    expect(jsonOf<{ downloadedFiles: number; keptFiles: number }>(first)).toMatchObject({ downloadedFiles: 2, keptFiles: 0 });
    for (const [path, bytes] of Object.entries(content)) expect(readFileSync(join(to, path)).equals(Buffer.from(bytes))).toBe(true);

    // An interrupted pull leaves the file's first bytes under <path>.trellis-partial.
    const target = join(to, 'nested/deep/b.bin');
    writeFileSync(`${target}.trellis-partial`, readFileSync(target).subarray(0, MiB + 123));
    truncateSync(target, 0);
    const again = await run(['datasets', 'pull', 'pulled', '--to', to]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('resuming: 1 of 2 files already here, 1 partly; downloading 1023.9 KiB');
    expect(readFileSync(target).equals(content['nested/deep/b.bin'])).toBe(true);
  });

  it('lists the versions, diffs two of them and moves a tag', async () => {
    await run(['datasets', 'push', 'history', directoryWith({ 'keep.csv': 'a\n1\n', 'old.csv': 'b\n2\n', 'edit.csv': 'c\n3\n' }), '--create', '-m', 'one']);
    await run(['datasets', 'push', 'history', directoryWith({ 'keep.csv': 'a\n1\n', 'new.csv': 'd\n4\n', 'edit.csv': 'c\n30\n' }), '-m', 'two', '-t', 'best']);

    const diff = jsonOf<{ changes: DatasetFileChangeJson[] }>(await run(['datasets', 'diff', 'history', '1', 'best', '-o', 'json']));
    expect(diff.changes.map((change) => [change.path, change.kind])).toEqual([
      ['edit.csv', 'FILE_CHANGE_KIND_CHANGED'],
      ['new.csv', 'FILE_CHANGE_KIND_ADDED'],
      ['old.csv', 'FILE_CHANGE_KIND_REMOVED'],
    ]);
    const log = await run(['datasets', 'log', 'history']);
    expect(log.stdout.split('\n').slice(0, 3)).toEqual([expect.stringMatching(/^VERSION\s+CREATED\s+FILES\s+SIZE\s+TAGS\s+MESSAGE$/), expect.stringMatching(/^2\s.*\s3\s+13 B\s+best\s+two$/), expect.stringMatching(/^1\s.*\s3\s+12 B\s+one$/)]);

    const taken = await run(['datasets', 'tag', 'history', '1', 'best']);
    expect(taken.code).toBe(EXIT.conflict);
    expect((await run(['datasets', 'tag', 'history', '1', 'best', '--move'])).stdout).toBe('history@best now names version 1.\n');
  });

  it('exits with codes scripts can rely on, saying what to do', async () => {
    const missing = await run(['datasets', 'pull', 'no-such-dataset']);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('trellis datasets create no-such-dataset');
    const badRef = await run(['datasets', 'pull', 'churn:v2']);
    expect(badRef.code).toBe(EXIT.usage);
    expect(badRef.stderr).toContain('<name>:<version> or <name>@<tag>');
    const noPath = await run(['datasets', 'push', 'anything', join(tmpdir(), 'trellis-no-such-dir'), '--create']);
    expect(noPath.code).toBe(EXIT.notFound);
    expect(noPath.stderr).toContain('no such file or directory');

    const { apiKey } = await seedUser(project, 'viewer', 'cli-datasets-viewer');
    const denied = await run(['datasets', 'push', 'viewer-push', directoryWith({ 'a.csv': 'a\n' }), '--create'], { apiKey });
    expect(denied.code).toBe(EXIT.permissionDenied);
  });
});
