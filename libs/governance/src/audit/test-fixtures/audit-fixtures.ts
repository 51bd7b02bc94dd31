import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs, type TimestampSchema } from '@bufbuild/protobuf/wkt';
import { defineService, Dialect, openDatabase, type DatabaseConfig } from '@trellis/platform';
import { definePlugin, z } from '@trellis/plugin-sdk';
import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { AuditEventSchema, AuditServiceDesc, Outcome, type AuditEvent } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditChain } from '../audit-chain';
import type { AuditEventInput } from '../audit.mapping';
import { findRecords } from '../audit-record.repository';
import { chainHash } from '../canonical';
import { AuditModule } from '../audit.module';
import { governanceService } from '../../governance.definition';

/** Test-only: 2026-01-01T00:00:00Z in milliseconds; events of a test happen a second apart from here. */
export const T0_MS = Date.UTC(2026, 0, 1);

/** Test-only: the fields of an audit event a test sets. */
export type AuditEventFields = Partial<Omit<AuditEvent, '$typeName' | '$unknown' | 'eventTime'>> & {
  eventTime?: MessageInitShape<typeof TimestampSchema>;
};

/** Test-only: an audit event as a service would send it, with a fresh id and the given fields. */
export function auditEvent(fields: AuditEventFields = {}): AuditEvent {
  return create(AuditEventSchema, {
    id: randomUUID(),
    service: 'tracking',
    actor: 'user-1',
    action: 'create',
    method: 'trellis.tracking.v1.RunService/CreateRun',
    resource: 'runs/r-1',
    projectId: 'p1',
    outcome: Outcome.SUCCEEDED,
    requestId: 'req-1',
    eventTime: timestampFromMs(T0_MS),
    clientAddress: 'ipv4:10.0.0.7:51234',
    ...fields,
  });
}

/** Test-only: governance's audit feature alone, served by the kit as governance serves it. */
export const auditTestService = defineService({
  name: 'audittest',
  defaultPort: 0,
  config: governanceService.config,
  workers: governanceService.workers,
  module: AuditModule,
  grpcServices: [AuditServiceDesc],
  plugins: governanceService.plugins,
  entities: governanceService.entities,
  migrations: governanceService.migrations,
});

/** Test-only: governance's tables (and the kit's) on a fresh database. */
export function openAuditDatabase(database: DatabaseConfig): Promise<DataSource> {
  return openDatabase({ service: 'governance', database, entities: governanceService.entities, migrations: governanceService.migrations });
}

/** Test-only: appends events in one transaction. */
export function appendEvents(dataSource: DataSource, events: AuditEventInput[], chain = new AuditChain()) {
  return dataSource.transaction((manager) => chain.append(manager, events));
}

/**
 * Test-only: runs SQL on the chain's tables behind the service's back, as someone with direct
 * database access would: first lifting the append-only triggers, as such a person could.
 */
export async function tamper(dataSource: DataSource, sql: string): Promise<void> {
  for (const table of ['audit_records', 'audit_checkpoints']) {
    if (Dialect.of(dataSource).isPostgres) {
      await dataSource.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    } else {
      await dataSource.query(`DROP TRIGGER IF EXISTS ${table}_no_update`);
      await dataSource.query(`DROP TRIGGER IF EXISTS ${table}_no_delete`);
    }
  }
  await dataSource.query(sql);
}

/**
 * Test-only: gives record `sequence` the actor `mallory` and recomputes every later hash and the
 * head with the chain's own code, as someone holding the database could.
 */
export async function rewriteChainFrom(dataSource: DataSource, sequence: bigint): Promise<void> {
  const records = await dataSource.transaction((manager) => findRecords(manager, { projects: 'all' }, { after: sequence - 1n, limit: 100_000 }));
  let previousHash = records[0].previousHash;
  for (const record of records) {
    const fields = record.sequence === sequence ? { ...record.fields, actor: 'mallory' } : record.fields;
    const hash = chainHash(previousHash, fields);
    await tamper(dataSource, `UPDATE audit_records SET actor = '${fields.actor}', previous_hash = '${previousHash}', hash = '${hash}' WHERE sequence = ${record.sequence}`);
    previousHash = hash;
  }
  await tamper(dataSource, `UPDATE audit_chain_head SET hash = '${previousHash}' WHERE id = 1`);
}

/** Test-only: checkpoints off, for specs of the records' hashes alone. */
export const UNSIGNED = { off: 'not under test' };

/** Test-only: a kms plugin whose instances keep their keys in memory (MemoryKeyManager). */
export const memoryKms = definePlugin({
  manifest: { kind: 'kms', id: 'kms-memory', apiVersion: 'v1' },
  configSchema: z.object({}),
  create: async () => new MemoryKeyManager(),
});
