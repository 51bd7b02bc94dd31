import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { type EventSubscription, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { AuditCheckpointedEventSchema, AuditEventSchema, AuditServiceDesc, EventEnvelopeSchema, type AuditCheckpoint } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_CHECKPOINTED_SUBJECT } from './checkpoint';
import { auditEvent, auditTestService, memoryKms, rewriteChainFrom } from './test-fixtures/audit-fixtures';

type AuditClient = GrpcClient<(typeof AuditServiceDesc)['method']>;

const EVENTS = 120;

describe('audit checkpoints through real gRPC, signed by a configured KMS', () => {
  const configDir = mkdtempSync(join(tmpdir(), 'trellis-checkpoints-'));
  let platform: TestPlatform;
  let service: RunningService;
  let orgAdmin: AuditClient;
  let projectAdmin: AuditClient;
  let subscription: EventSubscription;
  const published: AuditCheckpoint[] = [];

  beforeAll(async () => {
    // Checkpoints by record count only: the timer would fire at a moment the spec cannot know.
    writeFileSync(
      join(configDir, 'trellis.yaml'),
      'kms:\n  checkpoints: { plugin: kms-memory }\nservices:\n  audittest:\n    checkpointKms: checkpoints\n    checkpointEveryRecords: 50\n    checkpointEverySeconds: 86400\n',
    );
    platform = await TestPlatform.start({ TRELLIS_CONFIG: join(configDir, 'trellis.yaml') }, { plugins: [memoryKms] });
    subscription = await platform.runtime.bus.subscribe({
      durable: 'checkpoint-spec',
      subject: AUDIT_CHECKPOINTED_SUBJECT,
      handler: async (envelope) => void published.push(fromBinary(AuditCheckpointedEventSchema, envelope.payload).checkpoint!),
    });
    service = await platform.startService(auditTestService);
    orgAdmin = await platform.client(AuditServiceDesc, service.grpcAddress, { sub: 'root', orgAdmin: true });
    projectAdmin = await platform.client(AuditServiceDesc, service.grpcAddress, { sub: 'admin-1', bindings: [{ project: 'p1', role: 'admin' }] });
    for (let index = 0; index < EVENTS; index++) {
      const event = auditEvent({ resource: `runs/r-${index}` });
      await platform.runtime.bus.publish(
        create(EventEnvelopeSchema, { id: event.id, subject: 'trellis.tracking.v1.audit.recorded', payloadType: AuditEventSchema.typeName, payload: toBinary(AuditEventSchema, event) }),
      );
    }
    await eventually(async () => expect((await orgAdmin.listAuditRecords({ pageSize: 1000 })).records).toHaveLength(EVENTS));
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('signs the head once checkpointEveryRecords records were appended, and publishes each checkpoint', async () => {
    await eventually(() => expect(published.length).toBeGreaterThan(0));
    expect(published[0]).toMatchObject({ number: 1n, keyId: 'trellis-audit-checkpoints' });
    expect(published[0].sequence).toBeGreaterThanOrEqual(50n);
  });

  it('signs the head on demand for an org admin, and no one else', async () => {
    const { checkpoint } = await orgAdmin.createAuditCheckpoint({});
    expect(checkpoint).toMatchObject({ sequence: BigInt(EVENTS), headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await eventually(() => expect(published.at(-1)).toEqual(checkpoint));
    await expect(projectAdmin.createAuditCheckpoint({})).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'admin-1 may not checkpoint the audit chain: only org admins may',
      reason: 'ORG_ADMIN_REQUIRED',
    });
  });

  it('exports every checkpoint after the record it covers', async () => {
    const lines: string[] = [];
    for await (const { line } of orgAdmin.exportAuditRecords({})) lines.push(line);
    const parsed = lines.map((line) => JSON.parse(line) as { sequence?: string; checkpoint?: { number: string; sequence: string } });
    expect(parsed.filter((line) => line.checkpoint).map((line) => line.checkpoint?.number)).toEqual(published.map((checkpoint) => String(checkpoint.number)));
    const last = parsed.findIndex((line) => line.sequence === String(EVENTS));
    expect(parsed[last + 1]).toMatchObject({ checkpoint: { sequence: String(EVENTS) } });
  });

  it('verifies every checkpoint, and names a chain rewritten in the database with its hashes recomputed', async () => {
    const { checkpoint } = await orgAdmin.createAuditCheckpoint({});
    // Audited calls keep arriving (this one's own record among them), so some records may follow the checkpoint.
    const verdict = await orgAdmin.verifyAuditChain({});
    expect(verdict).toMatchObject({ intact: true, checkpointsChecked: checkpoint!.number, firstBadCheckpoint: 0n, problem: '' });
    expect(verdict.recordsNotCovered).toBe(verdict.recordsChecked - checkpoint!.sequence);

    await rewriteChainFrom(service.dataSource, 7n);

    expect(await orgAdmin.verifyAuditChain({})).toMatchObject({
      intact: false,
      firstBadSequence: published[0].sequence,
      firstBadCheckpoint: 1n,
      problem: 'rewritten',
      detail: expect.stringContaining('the chain was rewritten at or after its first record'),
    });
  });
});
