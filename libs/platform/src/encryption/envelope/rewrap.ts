import { type EncryptionContext, iterateObjects, type KeyManager } from '@trellis/plugin-sdk';
import { contextOf, type EnvelopeAccess } from './envelope-access';
import { isReservedKey, readRecord, recordKeyOf, writeRecord } from './key-record';

/** What `rewrapKeys` did. */
export interface RewrapReport {
  /** Objects whose data key was wrapped again under the KMS key's current version. */
  rewrapped: number;
  /** Objects whose data key already was under the current version. */
  current: number;
  /** Objects stored unencrypted, left alone. */
  unencrypted: number;
  /** Objects that could not be re-wrapped, with why; the others were done regardless. */
  failed: Array<{ key: string; error: string }>;
}

/** Re-wraps the data key of every encrypted object under `prefix`, rewriting key records only. */
export async function rewrapKeys(access: EnvelopeAccess, prefix: string | undefined): Promise<RewrapReport> {
  const report: RewrapReport = { rewrapped: 0, current: 0, unencrypted: 0, failed: [] };
  for await (const { key } of iterateObjects(access.inner, { prefix })) {
    if (isReservedKey(key)) continue;
    try {
      const objectId = await access.objectIdOf(key);
      if (!objectId) {
        report.unencrypted++;
        continue;
      }
      const record = await readRecord(access.inner, objectId);
      if (typeof record !== 'object') throw new Error(record ?? `its key record ${recordKeyOf(objectId)} is missing`);
      const wrapped = Buffer.from(record.wrappedKey, 'base64');
      const rewrapped = Buffer.from(await rewrap(access.kms, record.keyId, wrapped, contextOf(key, objectId)));
      if (rewrapped.equals(wrapped)) {
        report.current++;
      } else {
        await writeRecord(access.inner, { ...record, wrappedKey: rewrapped.toString('base64') });
        report.rewrapped++;
      }
    } catch (err) {
      report.failed.push({ key, error: (err as Error).message });
    }
  }
  return report;
}

/** `rewrapKey` where the KMS has it; otherwise unwrap and wrap again, which always gives new bytes. */
async function rewrap(kms: KeyManager, keyId: string, wrapped: Buffer, context: EncryptionContext): Promise<Uint8Array> {
  if (kms.rewrapKey) return kms.rewrapKey(keyId, wrapped, context);
  const plaintext = await kms.unwrapKey(keyId, wrapped, context);
  try {
    return await kms.wrapKey(keyId, plaintext, context);
  } finally {
    plaintext.fill(0);
  }
}
