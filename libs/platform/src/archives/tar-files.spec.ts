import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tarFiles, TarFormatError } from './tar-files';

const LONG = `${'deep/'.repeat(30)}file-with-a-name-past-the-ustar-limits.txt`;

/** Every file of the archive with its bytes, read in `chunkSize` pieces. */
async function filesOf(archive: Buffer, chunkSize = 1000): Promise<Record<string, string>> {
  const chunks = Array.from({ length: Math.ceil(archive.length / chunkSize) }, (_, index) => archive.subarray(index * chunkSize, (index + 1) * chunkSize));
  const files: Record<string, string> = {};
  for await (const file of tarFiles(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    for await (const piece of file.body) parts.push(piece);
    const bytes = Buffer.concat(parts);
    expect(bytes.length).toBe(file.size);
    files[file.path] = bytes.toString();
  }
  return files;
}

describe('tarFiles', () => {
  let dir: string;
  const tree = () => join(dir, 'tree');
  const tar = (...args: string[]) => execFileSync('tar', ['-C', tree(), '-c', ...args]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tar-files-'));
    mkdirSync(join(tree(), 'nested/empty'), { recursive: true });
    mkdirSync(join(tree(), LONG.slice(0, LONG.lastIndexOf('/'))), { recursive: true });
    writeFileSync(join(tree(), 'a.csv'), 'x,y\n1,2\n');
    writeFileSync(join(tree(), 'nested/blob.bin'), 'b'.repeat(5000));
    writeFileSync(join(tree(), 'nested/zero'), '');
    writeFileSync(join(tree(), LONG), 'long');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const expected = { 'a.csv': 'x,y\n1,2\n', 'nested/blob.bin': 'b'.repeat(5000), 'nested/zero': '', [LONG]: 'long' };

  it.each(['gnu', 'pax'])('reads the regular files of a GNU tar archive in %s format, without ./ and directories', async (format) => {
    expect(await filesOf(tar(`--format=${format}`, '.'), 777)).toEqual(expected);
  });

  it("joins a ustar header's prefix and name", async () => {
    const deep = `${'p'.repeat(60)}/${'q'.repeat(60)}`;
    mkdirSync(join(tree(), deep), { recursive: true });
    writeFileSync(join(tree(), deep, 'f.txt'), 'prefixed');
    expect(await filesOf(tar('--format=ustar', deep))).toEqual({ [`${deep}/f.txt`]: 'prefixed' });
  });

  it('skips what a reader leaves of a file', async () => {
    const paths: string[] = [];
    for await (const file of tarFiles(Readable.from([tar('--format=pax', '.')]))) {
      paths.push(file.path);
      await file.body.next();
    }
    expect(paths.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each([
    ['a symbolic link', () => symlinkSync('a.csv', join(tree(), 'link'))],
    ['a hard link', () => linkSync(join(tree(), 'a.csv'), join(tree(), 'hard'))],
    ['a FIFO', () => execFileSync('mkfifo', [join(tree(), 'fifo')])],
  ])('refuses %s, naming the entry', async (kind, make) => {
    make();
    const name = kind === 'a symbolic link' ? 'link' : kind === 'a hard link' ? '(hard|a\\.csv)' : 'fifo';
    await expect(filesOf(tar('--format=pax', '.'))).rejects.toMatchObject({ message: expect.stringMatching(new RegExp(`entry "\\./${name}" is ${kind};`)) });
  });

  it('refuses absolute paths and .. segments, naming the entry', async () => {
    const absolute = tar('--absolute-names', '--format=pax', join(tree(), 'a.csv'));
    await expect(filesOf(absolute)).rejects.toMatchObject({ message: expect.stringContaining(`entry "${join(tree(), 'a.csv')}" has an absolute path`) });
    const escaping = execFileSync('tar', ['-C', join(tree(), 'nested'), '-c', '--absolute-names', '--format=pax', '../a.csv']);
    await expect(filesOf(escaping)).rejects.toMatchObject({ message: expect.stringContaining('entry "../a.csv" has a ".." segment') });
  });

  it('refuses an archive cut short, between entries or inside one, and bytes that are not a tar archive', async () => {
    const archive = tar('--format=gnu', 'a.csv', 'nested/blob.bin');
    await expect(filesOf(archive.subarray(0, 1024))).rejects.toMatchObject({ message: expect.stringContaining('the tar archive ends at byte 1024, before its end-of-archive blocks: it was cut short') });
    await expect(filesOf(archive.subarray(0, 2000))).rejects.toMatchObject({ message: expect.stringContaining('it was cut short') });
    await expect(filesOf(Buffer.alloc(0))).rejects.toMatchObject({ message: expect.stringContaining('ends at byte 0') });
    await expect(filesOf(Buffer.from('x'.repeat(1024)))).rejects.toMatchObject({ message: expect.stringContaining('(tar header at byte 0)') });
    await expect(filesOf(Buffer.from('x'.repeat(1024)))).rejects.toBeInstanceOf(TarFormatError);
  });
});
