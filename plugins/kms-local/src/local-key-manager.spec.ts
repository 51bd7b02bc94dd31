import { randomBytes } from 'node:crypto';
import { LocalKeyManager } from './local-key-manager';
import { type MasterKey, masterKeyId } from './master-keys';

function masterKey(): MasterKey {
  const bytes = randomBytes(32);
  return { id: masterKeyId(bytes), bytes, source: 'spec' };
}

const context = { 'trellis.object-key': 'models/a.onnx' };

describe('LocalKeyManager', () => {
  const oldKey = masterKey();
  const newKey = masterKey();
  const before = new LocalKeyManager('keys', oldKey, []);
  const during = new LocalKeyManager('keys', newKey, [oldKey]);
  const after = new LocalKeyManager('keys', newKey, []);

  it('wraps a fresh 32-byte data key as version, master key id, IV, ciphertext and tag', async () => {
    const { keyId, plaintext, wrapped } = await before.generateDataKey('project-1', context);
    expect(keyId).toBe('project-1');
    expect(plaintext).toHaveLength(32);
    const bytes = Buffer.from(wrapped);
    expect(bytes).toHaveLength(1 + 8 + 12 + 32 + 16);
    expect(bytes[0]).toBe(1);
    expect(bytes.subarray(1, 9).toString('hex')).toBe(oldKey.id);
    expect(bytes.includes(Buffer.from(plaintext))).toBe(false);
    expect(Buffer.from(await before.unwrapKey('project-1', wrapped, context)).equals(Buffer.from(plaintext))).toBe(true);
    const again = await before.generateDataKey('project-1', context);
    expect(Buffer.from(again.plaintext).equals(Buffer.from(plaintext))).toBe(false);
  });

  it('refuses to unwrap under another key id or context', async () => {
    const { wrapped } = await before.generateDataKey('project-1', context);
    for (const [keyId, ctx] of [
      ['project-2', context],
      ['project-1', { 'trellis.object-key': 'models/b.onnx' }],
      ['project-1', {}],
      ['project-1', { ...context, extra: 'x' }],
    ] as const) {
      await expect(before.unwrapKey(keyId, wrapped, ctx)).rejects.toMatchObject({ name: 'InvalidWrappedKeyError', code: 'INVALID_WRAPPED_KEY' });
    }
  });

  it('refuses a wrapped key with any byte altered, naming the master key when the tag does not verify', async () => {
    const { wrapped } = await before.generateDataKey('project-1', context);
    for (let at = 0; at < wrapped.length; at++) {
      const altered = Buffer.from(wrapped);
      altered[at] ^= 0x01;
      const failure = await before.unwrapKey('project-1', altered, context).then(
        () => undefined,
        (err: Error & { code: string }) => err,
      );
      const expected = at === 0 ? 'INVALID_WRAPPED_KEY' : at < 9 ? 'KEY_NOT_FOUND' : 'INVALID_WRAPPED_KEY';
      expect({ at, code: failure?.code }).toEqual({ at, code: expected });
      if (at >= 9) expect(failure?.message).toBe(`wrapped data key does not verify under master key ${oldKey.id} for key id "project-1": it was altered, or wrapped for another key id or encryption context`);
    }
  });

  it('names the unknown master key and what it holds, and how to make it known', async () => {
    const { wrapped } = await before.generateDataKey('project-1', context);
    await expect(after.unwrapKey('project-1', wrapped, context)).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
      keyId: oldKey.id,
      message: `the data key was wrapped by master key ${oldKey.id}, which kms-local instance "keys" does not hold (it holds ${newKey.id} (current)); add that key to previousMasterKeyFiles or previousMasterKeyEnvs until every data key is rewrapped`,
    });
  });

  it('unwraps with a previous key during a rotation, and rewraps under the current one', async () => {
    const { plaintext, wrapped } = await before.generateDataKey('project-1', context);
    expect(Buffer.from(await during.unwrapKey('project-1', wrapped, context)).equals(Buffer.from(plaintext))).toBe(true);
    const rewrapped = await during.rewrapKey('project-1', wrapped, context);
    expect(Buffer.from(rewrapped).subarray(1, 9).toString('hex')).toBe(newKey.id);
    expect(Buffer.from(await after.unwrapKey('project-1', rewrapped, context)).equals(Buffer.from(plaintext))).toBe(true);
    expect(await during.rewrapKey('project-1', rewrapped, context)).toBe(rewrapped);
    await expect(during.rewrapKey('project-2', wrapped, context)).rejects.toMatchObject({ code: 'INVALID_WRAPPED_KEY' });
  });

  describe('MACs', () => {
    const head = Buffer.from('["trellis audit checkpoint v1","1","1000","ab12"]');

    it('are version, master key id and HMAC-SHA256, verifying under the same key id and data only', async () => {
      const mac = Buffer.from(await before.mac('audit', head));
      expect(mac).toHaveLength(1 + 8 + 32);
      expect(mac.subarray(1, 9).toString('hex')).toBe(oldKey.id);
      expect(Buffer.from(await before.mac('audit', head)).equals(mac)).toBe(true);
      expect(await before.verifyMac('audit', head, mac)).toBe(true);
      expect(await before.verifyMac('other', head, mac)).toBe(false);
      expect(await before.verifyMac('audit', Buffer.from('["trellis audit checkpoint v1","1","1000","ab13"]'), mac)).toBe(false);
      expect(Buffer.from(await before.mac('other', head)).equals(mac)).toBe(false);
    });

    it('do not verify with any byte altered, and name an unknown master key', async () => {
      const mac = await before.mac('audit', head);
      for (let at = 0; at < mac.length; at++) {
        const altered = Buffer.from(mac);
        altered[at] ^= 0x01;
        const outcome = await before.verifyMac('audit', head, altered).catch((err: Error & { code: string }) => err.code);
        expect({ at, outcome }).toEqual({ at, outcome: at > 0 && at < 9 ? 'KEY_NOT_FOUND' : false });
      }
      expect(await before.verifyMac('audit', head, mac.subarray(0, 40))).toBe(false);
      await expect(after.verifyMac('audit', head, mac)).rejects.toMatchObject({
        code: 'KEY_NOT_FOUND',
        message: expect.stringContaining(`the MAC was made by master key ${oldKey.id}, which kms-local instance "keys" does not hold`),
      });
    });

    it('made before a rotation verify while the previous key is configured; new ones use the current key', async () => {
      const old = await before.mac('audit', head);
      expect(await during.verifyMac('audit', head, old)).toBe(true);
      const fresh = Buffer.from(await during.mac('audit', head));
      expect(fresh.subarray(1, 9).toString('hex')).toBe(newKey.id);
      expect(await after.verifyMac('audit', head, fresh)).toBe(true);
    });

    it('are made of 1 to 4096 bytes', async () => {
      await expect(before.mac('audit', new Uint8Array(0))).rejects.toThrow('kms-local computes MACs over 1 to 4096 bytes, got 0 bytes');
      await expect(before.mac('audit', new Uint8Array(4097))).rejects.toThrow('got 4097 bytes');
      await expect(before.mac('', head)).rejects.toThrow('a key id is a string of 1 to 256 characters');
    });
  });

  it('refuses malformed arguments and, once closed, every call', async () => {
    await expect(before.wrapKey('', randomBytes(32))).rejects.toThrow('a key id is a string of 1 to 256 characters, got ""');
    await expect(before.wrapKey('k', new Uint8Array(0))).rejects.toThrow('kms-local wraps data keys of 1 to 1024 bytes, got 0 bytes');
    await expect(before.unwrapKey('k', randomBytes(10))).rejects.toMatchObject({ code: 'INVALID_WRAPPED_KEY', message: expect.stringContaining('not a data key kms-local wrapped') });
    const closing = new LocalKeyManager('closing', masterKey(), []);
    closing.close();
    await expect(closing.generateDataKey('k')).rejects.toThrow('kms-local instance "closing" is closed');
    await expect(closing.mac('k', Buffer.from('x'))).rejects.toThrow('kms-local instance "closing" is closed');
  });
});
