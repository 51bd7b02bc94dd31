import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretReference, secretReferenceProblem } from './secret-reference';

describe('reading a secret reference', () => {
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-reference-'));
  });

  afterEach(() => {
    process.env = { ...saved };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an environment variable, and a file without its trailing newline', async () => {
    process.env.TRELLIS_SPEC_SECRET = 's3cret';
    await writeFile(join(dir, 'key'), 'from-file\n');
    await expect(readSecretReference('env:TRELLIS_SPEC_SECRET')).resolves.toBe('s3cret');
    await expect(readSecretReference(`file:${join(dir, 'key')}`)).resolves.toBe('from-file');
  });

  it('says what is wrong, never with a value', async () => {
    process.env.TRELLIS_SPEC_EMPTY = '';
    await writeFile(join(dir, 'empty'), '\n');
    await expect(readSecretReference('env:TRELLIS_SPEC_UNSET')).rejects.toThrow('the environment variable TRELLIS_SPEC_UNSET is not set');
    await expect(readSecretReference('env:TRELLIS_SPEC_EMPTY')).rejects.toThrow('the environment variable TRELLIS_SPEC_EMPTY is empty');
    await expect(readSecretReference(`file:${join(dir, 'missing')}`)).rejects.toThrow(`cannot read ${join(dir, 'missing')} (ENOENT)`);
    await expect(readSecretReference(`file:${join(dir, 'empty')}`)).rejects.toThrow(`the file ${join(dir, 'empty')} is empty`);
    await expect(readSecretReference('file:keys/key')).rejects.toThrow('file: must be followed by an absolute path (file:/run/secrets/s3-key)');
    await expect(readSecretReference('hunter2')).rejects.toThrow(/^is not a secret reference: write env:NAME or file:\/absolute\/path$/);
  });

  it('finds a malformed reference before reading anything', () => {
    expect(secretReferenceProblem('env:1BAD')).toBe('env: must be followed by an environment variable name (env:S3_SECRET_KEY)');
    expect(secretReferenceProblem('env:GOOD_NAME')).toBeUndefined();
    expect(secretReferenceProblem('kms:abc')).toBeUndefined();
  });
});
