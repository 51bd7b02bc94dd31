import type { KeyManager } from '@trellis/plugin-sdk';
import type { StoredCheckpoint } from './audit-checkpoint.repository';
import { checkpointBytes, type CheckpointFields } from './canonical';

/** The KMS key id governance signs checkpoints under. */
export const CHECKPOINT_KEY_ID = 'trellis-audit-checkpoints';

/** A KMS instance that computes MACs (the contract's optional `mac` and `verifyMac`). */
export type MacKeyManager = KeyManager & Required<Pick<KeyManager, 'mac' | 'verifyMac'>>;

/** Whether `kms` computes MACs. */
export function computesMacs(kms: KeyManager): kms is MacKeyManager {
  return typeof kms.mac === 'function' && typeof kms.verifyMac === 'function';
}

/** Signs checkpoints with a KMS key the database does not hold, and checks their signatures. */
export class CheckpointSigner {
  constructor(private readonly kms: MacKeyManager) {}

  async sign(fields: CheckpointFields): Promise<StoredCheckpoint> {
    const mac = await this.kms.mac(CHECKPOINT_KEY_ID, checkpointBytes(fields));
    return { ...fields, keyId: CHECKPOINT_KEY_ID, mac: Buffer.from(mac) };
  }

  /**
   * Why `checkpoint`'s signature does not hold, in words; undefined when it does. A KMS that
   * cannot be reached throws: that says nothing about the checkpoint.
   */
  async problemWith(checkpoint: StoredCheckpoint): Promise<string | undefined> {
    if (checkpoint.keyId !== CHECKPOINT_KEY_ID) return `it names key ${JSON.stringify(checkpoint.keyId.slice(0, 100))}, not ${CHECKPOINT_KEY_ID}`;
    try {
      const valid = await this.kms.verifyMac(CHECKPOINT_KEY_ID, checkpointBytes(checkpoint), checkpoint.mac);
      return valid ? undefined : `its MAC does not verify under key ${CHECKPOINT_KEY_ID}: the checkpoint or its MAC was altered`;
    } catch (error) {
      // Matched by code: a plugin may bundle its own copy of the SDK's errors.
      if ((error as { code?: unknown }).code === 'KEY_NOT_FOUND') return `its MAC names a key the KMS does not hold: ${(error as Error).message}`;
      throw error;
    }
  }
}
