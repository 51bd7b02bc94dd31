import { tarFiles } from '@trellis/platform';
import { Readable } from 'node:stream';
import { tarStream } from './tar-stream';

describe('tarStream', () => {
  it('writes archives the platform reads back, long paths in pax records', async () => {
    const long = `${'deep/'.repeat(30)}file-with-a-name-past-the-ustar-limits.txt`;
    const expected: Record<string, string> = { 'a.csv': 'x,y\n1,2\n', 'nested/blob.bin': 'b'.repeat(5000), 'nested/zero': '', [long]: 'long' };
    const entries = Object.entries(expected).map(([path, content]) => ({ path, size: Buffer.byteLength(content), mtimeMs: 0, open: async () => Readable.from([Buffer.from(content)]) }));
    const chunks: Buffer[] = [];
    for await (const chunk of tarStream(Readable.from(entries))) chunks.push(chunk);
    const files: Record<string, string> = {};
    for await (const file of tarFiles(Readable.from([Buffer.concat(chunks)]))) {
      const parts: Buffer[] = [];
      for await (const piece of file.body) parts.push(piece);
      files[file.path] = Buffer.concat(parts).toString();
    }
    expect(files).toEqual(expected);
  });
});
