import { randomBytes } from 'node:crypto';
import { describeKmsConformance } from './kms.conformance';
import { MemoryKeyManager } from './memory-key-manager';

describeKmsConformance('memory (the test KMS)', () => new MemoryKeyManager());

describe('MemoryKeyManager rotation', () => {
  it('unwraps keys of earlier versions until they are forgotten, and rewraps them under the current one', async () => {
    const kms = new MemoryKeyManager();
    const plaintext = randomBytes(32);
    const old = await kms.wrapKey('k', plaintext);
    kms.rotate();
    const rewrapped = await kms.rewrapKey('k', old);
    expect(Buffer.from(rewrapped)).not.toEqual(Buffer.from(old));
    kms.forget();
    await expect(kms.unwrapKey('k', old)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    expect(Buffer.from(await kms.unwrapKey('k', rewrapped))).toEqual(plaintext);
  });
});
