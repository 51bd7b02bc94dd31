import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { Outbox } from '@trellis/platform';
import { AuditCheckpointedEventSchema } from '@trellis/proto';
import type { DataSource } from 'typeorm';
import { governanceEvents } from '../governance.events';
import { insertCheckpoint, lastCheckpoint, type StoredCheckpoint } from './audit-checkpoint.repository';
import { auditCheckpointOf, microsOf } from './audit.mapping';
import { lockChainHead } from './audit-record.repository';
import type { CheckpointSigner } from './checkpoint-signer';

/** Where every checkpoint is published. */
export const AUDIT_CHECKPOINTED_SUBJECT = 'trellis.governance.v1.audit.checkpointed';

/**
 * Signs the chain's current head as the next checkpoint, stores it and publishes it
 * (AuditCheckpointedEvent), in one transaction holding the head, so checkpoints and appends take
 * turns and numbers never repeat. When the last checkpoint already covers the head, that one is
 * returned and nothing is written; an empty chain has none.
 */
export function createCheckpoint(dataSource: DataSource, outbox: Outbox, signer: CheckpointSigner): Promise<StoredCheckpoint | undefined> {
  return dataSource.transaction(async (manager) => {
    const head = await lockChainHead(manager);
    const last = await lastCheckpoint(manager);
    if (head.sequence === 0n || (last && last.sequence >= head.sequence)) return last;
    const checkpoint = await signer.sign({
      number: (last?.number ?? 0n) + 1n,
      sequence: head.sequence,
      headHash: head.hash,
      createdAtUs: microsOf(timestampNow()),
    });
    await insertCheckpoint(manager, checkpoint);
    await outbox.publish(manager, governanceEvents, {
      subject: AUDIT_CHECKPOINTED_SUBJECT,
      message: create(AuditCheckpointedEventSchema, { checkpoint: auditCheckpointOf(checkpoint) }),
    });
    return checkpoint;
  });
}
