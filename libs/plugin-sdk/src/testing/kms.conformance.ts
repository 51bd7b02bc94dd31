import { randomBytes } from 'node:crypto';
import { type KeyManager, MAX_MAC_DATA_BYTES } from '../contracts';

/** Makes a KMS for one test; called before every test of the suite. */
export type KmsFactory = () => Promise<KeyManager> | KeyManager;

/** Key ids the suite uses: keys the KMS under test holds (a cloud KMS's key ARNs); any ids where every id is valid. */
export interface KmsConformanceKeys {
  /** The key-encryption key most cases wrap under. */
  keyId: string;
  /** Another key: what `keyId` wrapped must not unwrap under it. */
  otherKeyId: string;
}

const invalidWrappedKey = { name: 'InvalidWrappedKeyError', code: 'INVALID_WRAPPED_KEY' };

/**
 * The KMS contract's conformance suite (v1). A KMS plugin's spec calls it with a factory of
 * instances and, where key ids must name existing keys, the two to use; it uses jest's globals.
 * The optional `mac`/`verifyMac` and `rewrapKey` are checked when the instance has them.
 *
 * @example
 * describeKmsConformance('kms-local', () => plugin.create(createTestContext(), { masterKeyFile }));
 */
export function describeKmsConformance(name: string, factory: KmsFactory, keys: KmsConformanceKeys = { keyId: 'conformance-key', otherKeyId: 'conformance-other-key' }): void {
  describe(`kms conformance (v1): ${name}`, () => {
    const { keyId, otherKeyId } = keys;
    const context = { project: 'p-1', object: 'artifacts/run-1/model.onnx' };
    let kms: KeyManager;

    beforeEach(async () => {
      kms = await factory();
    });

    afterEach(async () => {
      await kms.close?.();
    });

    describe('data keys', () => {
      it('generates a 32-byte data key, wrapped so that only unwrapping gives it back', async () => {
        const key = await kms.generateDataKey(keyId, context);
        expect(key.keyId).toBe(keyId);
        expect(key.plaintext).toHaveLength(32);
        expect(Buffer.from(key.wrapped).includes(Buffer.from(key.plaintext))).toBe(false);
        expect(Buffer.from(await kms.unwrapKey(keyId, key.wrapped, context))).toEqual(Buffer.from(key.plaintext));
      });

      it('generates a different data key every time', async () => {
        const [a, b] = [await kms.generateDataKey(keyId), await kms.generateDataKey(keyId)];
        expect(Buffer.from(a.plaintext)).not.toEqual(Buffer.from(b.plaintext));
        expect(Buffer.from(a.wrapped)).not.toEqual(Buffer.from(b.wrapped));
      });

      it('wraps and unwraps a data key it was given, with and without a context', async () => {
        const plaintext = randomBytes(32);
        expect(Buffer.from(await kms.unwrapKey(keyId, await kms.wrapKey(keyId, plaintext, context), context))).toEqual(plaintext);
        expect(Buffer.from(await kms.unwrapKey(keyId, await kms.wrapKey(keyId, plaintext)))).toEqual(plaintext);
      });

      it('wraps the same data key differently each time', async () => {
        const plaintext = randomBytes(32);
        expect(Buffer.from(await kms.wrapKey(keyId, plaintext))).not.toEqual(Buffer.from(await kms.wrapKey(keyId, plaintext)));
      });
    });

    describe('binding to the key id and the context', () => {
      it('unwraps whatever order the context entries come in', async () => {
        const wrapped = await kms.wrapKey(keyId, randomBytes(32), { a: '1', b: '2' });
        await expect(kms.unwrapKey(keyId, wrapped, { b: '2', a: '1' })).resolves.toHaveLength(32);
      });

      it.each([
        ['another value', { ...context, object: 'artifacts/run-2/model.onnx' }],
        ['an entry left out', { project: context.project }],
        ['an entry added', { ...context, extra: 'x' }],
        ['no context', undefined],
      ])('refuses a wrapped key with another context (%s) as InvalidWrappedKeyError', async (_why, other) => {
        const wrapped = await kms.wrapKey(keyId, randomBytes(32), context);
        await expect(kms.unwrapKey(keyId, wrapped, other)).rejects.toMatchObject(invalidWrappedKey);
      });

      it('refuses a key wrapped without a context when one is given', async () => {
        const wrapped = await kms.wrapKey(keyId, randomBytes(32));
        await expect(kms.unwrapKey(keyId, wrapped, context)).rejects.toMatchObject(invalidWrappedKey);
      });

      it('refuses a key wrapped under another key id as InvalidWrappedKeyError', async () => {
        const wrapped = await kms.wrapKey(keyId, randomBytes(32), context);
        await expect(kms.unwrapKey(otherKeyId, wrapped, context)).rejects.toMatchObject(invalidWrappedKey);
      });
    });

    describe('altered wrapped keys', () => {
      it('refuses a wrapped key with any one byte altered, never giving a key back', async () => {
        const wrapped = Buffer.from(await kms.wrapKey(keyId, randomBytes(32), context));
        for (let at = 0; at < wrapped.length; at++) {
          const altered = Buffer.from(wrapped);
          altered[at] ^= 0x01;
          const error = await kms.unwrapKey(keyId, altered, context).then(
            () => new Error(`byte ${at} altered, and the key still unwrapped`),
            (err: unknown) => err,
          );
          // An altered header may name a key version the KMS does not hold.
          expect([`${at}: INVALID_WRAPPED_KEY`, `${at}: KEY_NOT_FOUND`]).toContain(`${at}: ${(error as { code?: string }).code}`);
        }
      });

      it('refuses a truncated or empty wrapped key as InvalidWrappedKeyError', async () => {
        const wrapped = Buffer.from(await kms.wrapKey(keyId, randomBytes(32), context));
        await expect(kms.unwrapKey(keyId, wrapped.subarray(0, wrapped.length - 1), context)).rejects.toMatchObject(invalidWrappedKey);
        await expect(kms.unwrapKey(keyId, wrapped.subarray(0, 8), context)).rejects.toMatchObject(invalidWrappedKey);
        await expect(kms.unwrapKey(keyId, new Uint8Array(0), context)).rejects.toMatchObject(invalidWrappedKey);
      });
    });

    describe('MACs (when the KMS has them)', () => {
      it('has both mac and verifyMac, or neither', () => {
        expect(typeof kms.mac).toBe(typeof kms.verifyMac);
      });

      it('verifies its own MAC, and no MAC of altered data, an altered MAC or another key id', async () => {
        if (!kms.mac || !kms.verifyMac) return;
        const data = Buffer.from('audit chain head 0123456789abcdef');
        const mac = Buffer.from(await kms.mac(keyId, data));
        expect(await kms.verifyMac(keyId, data, mac)).toBe(true);
        expect(await kms.verifyMac(keyId, Buffer.from('audit chain head 0123456789abcdeF'), mac)).toBe(false);
        const altered = Buffer.from(mac);
        altered[altered.length - 1] ^= 0x01;
        expect(await kms.verifyMac(keyId, data, altered)).toBe(false);
        expect(await kms.verifyMac(keyId, data, mac.subarray(0, mac.length - 1))).toBe(false);
        expect(await kms.verifyMac(otherKeyId, data, mac)).toBe(false);
      });

      it(`takes up to ${MAX_MAC_DATA_BYTES} bytes and refuses more`, async () => {
        if (!kms.mac || !kms.verifyMac) return;
        const most = randomBytes(MAX_MAC_DATA_BYTES);
        expect(await kms.verifyMac(keyId, most, await kms.mac(keyId, most))).toBe(true);
        await expect(kms.mac(keyId, randomBytes(MAX_MAC_DATA_BYTES + 1))).rejects.toThrow();
      });
    });

    describe('rewrapKey (when the KMS has it)', () => {
      it('gives back equal bytes for a key already under the current version, and refuses what unwrapKey refuses', async () => {
        if (!kms.rewrapKey) return;
        const plaintext = randomBytes(32);
        const wrapped = await kms.wrapKey(keyId, plaintext, context);
        const rewrapped = await kms.rewrapKey(keyId, wrapped, context);
        expect(Buffer.from(rewrapped)).toEqual(Buffer.from(wrapped));
        expect(Buffer.from(await kms.unwrapKey(keyId, rewrapped, context))).toEqual(plaintext);
        await expect(kms.rewrapKey(keyId, wrapped, { other: 'context' })).rejects.toMatchObject(invalidWrappedKey);
      });
    });
  });
}
