import { create, fromJsonString, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { callEveryMethodWithoutToken, type GrpcClient, type PlatformRuntime, type RunningService } from '@trellis/platform';
import { TestPlatform, type TestTokenClaims } from '@trellis/platform/testing';
import { AuditEventSchema, AuditRecordSchema, AuditServiceDesc, EventEnvelopeSchema, type AuditEvent } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { auditEvent, auditTestService, tamper, T0_MS } from './test-fixtures/audit-fixtures';

type AuditClient = GrpcClient<(typeof AuditServiceDesc)['method']>;

const EXPORTED = 1203;

describe('AuditService through real gRPC', () => {
  let platform: TestPlatform;
  let runtime: PlatformRuntime;
  let service: RunningService;
  let orgAdmin: AuditClient;
  let projectAdmin: AuditClient;
  let editor: AuditClient;
  const events: AuditEvent[] = [];

  /** Publishes on the process's bus, as the relay of another service's outbox does. */
  const publish = (event: AuditEvent) =>
    runtime.bus.publish(
      create(EventEnvelopeSchema, {
        id: event.id,
        subject: `trellis.${event.service}.v1.audit.recorded`,
        payloadType: AuditEventSchema.typeName,
        payload: toBinary(AuditEventSchema, event),
      }),
    );
  const sequencesOf = (answer: { records: Array<{ sequence: bigint }> }) => answer.records.map((record) => Number(record.sequence));

  beforeAll(async () => {
    platform = await TestPlatform.start();
    runtime = platform.runtime;
    service = await platform.startService(auditTestService);
    const client = (claims: TestTokenClaims) => platform.client(AuditServiceDesc, service.grpcAddress, claims);
    orgAdmin = await client({ sub: 'root', orgAdmin: true });
    projectAdmin = await client({ sub: 'admin-1', bindings: [{ project: 'p1', role: 'admin' }] });
    editor = await client({ sub: 'editor-1', bindings: [{ project: 'p1', role: 'editor' }] });

    const at = (seconds: number) => timestampFromMs(T0_MS + seconds * 1000);
    events.push(
      auditEvent({ service: 'tracking', projectId: 'p1', actor: 'ann', resource: 'runs/r-1', eventTime: at(1) }),
      auditEvent({ service: 'registry', projectId: 'p2', actor: 'bob', resource: 'projects/p1/models/m-1', eventTime: at(2) }),
      auditEvent({ service: 'tracking', projectId: 'p1', actor: 'bob', resource: 'runs/r-2', eventTime: at(3) }),
      auditEvent({ service: 'data', projectId: 'p1', actor: 'ann', action: 'delete', method: 'trellis.data.v1.DataService/DeleteDataset', resource: 'projects/p1/datasets/d-1', eventTime: at(4) }),
      auditEvent({ service: 'tracking', projectId: 'p1', actor: 'ann', resource: 'runs/r-3', eventTime: at(5) }),
    );
    for (let index = events.length; index < EXPORTED; index++) events.push(auditEvent({ service: 'compute', projectId: 'p3', resource: `projects/p3/jobs/j-${index}`, eventTime: at(100 + index) }));
    for (const event of events) await publish(event);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  describe('ListAuditRecords', () => {
    it('pages through the records of the caller’s projects, oldest first', async () => {
      const first = await projectAdmin.listAuditRecords({ pageSize: 3 });
      expect(sequencesOf(first)).toEqual([1, 3, 4]);
      expect(first.records[0].event).toEqual(events[0]);
      expect(first.records[0]).toMatchObject({ previousHash: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const second = await projectAdmin.listAuditRecords({ pageSize: 3, pageToken: first.nextPageToken });
      expect(sequencesOf(second)).toEqual([5]);
      expect(second.nextPageToken).toBe('');
    });

    it('filters by project, actor, action, method, resource prefix and time', async () => {
      const list = (filter: Parameters<AuditClient['listAuditRecords']>[0]['filter']) => orgAdmin.listAuditRecords({ filter }).then(sequencesOf);
      expect(await list({ projectId: 'p2' })).toEqual([2]);
      expect(await list({ actor: 'bob' })).toEqual([2, 3]);
      expect(await list({ action: 'delete' })).toEqual([4]);
      expect(await list({ projectId: 'p1', method: 'trellis.tracking.v1.RunService/CreateRun' })).toEqual([1, 3, 5]);
      expect(await list({ method: 'DeleteDataset' })).toEqual([4]);
      expect(await list({ method: 'Dataset' })).toEqual([]);
      expect(await list({ projectId: 'p1', resource: 'runs/*' })).toEqual([1, 3, 5]);
      expect(await list({ startTime: timestampFromMs(T0_MS + 2000), endTime: timestampFromMs(T0_MS + 4000) })).toEqual([2, 3]);
    });

    it('gives an org admin every project, 100 records to a page by default', async () => {
      const page = await orgAdmin.listAuditRecords({});
      expect(page.records).toHaveLength(100);
      expect(sequencesOf(page).slice(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(page.nextPageToken).not.toBe('');
    });

    it('refuses a bad page token or page size, naming the field', async () => {
      await expect(orgAdmin.listAuditRecords({ pageToken: 'garbage!' })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'page_token: is not a token a previous page of this list returned',
      });
      await expect(orgAdmin.listAuditRecords({ pageSize: 5000 })).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'page_size: must be between 0 and 1000',
      });
    });
  });

  describe('ExportAuditRecords', () => {
    it('streams every matching record as one JSON line, in batches', async () => {
      const lines: string[] = [];
      for await (const { line } of orgAdmin.exportAuditRecords({})) lines.push(line);

      expect(lines).toHaveLength(EXPORTED);
      expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
      const records = lines.map((line) => fromJsonString(AuditRecordSchema, line));
      expect(records.map((record) => Number(record.sequence))).toEqual(Array.from({ length: EXPORTED }, (_, index) => index + 1));
      expect(records.map((record) => record.event?.id)).toEqual(events.map((event) => event.id));
      expect(JSON.parse(lines[0])).toMatchObject({ sequence: '1', event: { projectId: 'p1', reason: '', outcome: 'OUTCOME_SUCCEEDED' }, previousHash: '0'.repeat(64) });
    });

    it('refuses a bad filter before streaming anything, naming the field', async () => {
      const lines: string[] = [];
      const stream = async () => {
        for await (const { line } of orgAdmin.exportAuditRecords({ filter: { resource: 'runs/*/x' } })) lines.push(line);
      };
      await expect(stream()).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^filter\.resource: /) });
      expect(lines).toEqual([]);
    });

    it('exports only the caller’s projects', async () => {
      const lines: string[] = [];
      for await (const { line } of projectAdmin.exportAuditRecords({ filter: { actor: 'ann' } })) lines.push(line);
      expect(lines.map((line) => JSON.parse(line).sequence)).toEqual(['1', '4', '5']);
    });
  });

  describe('VerifyAuditChain', () => {
    it('finds the chain intact for an org admin', async () => {
      expect(await orgAdmin.verifyAuditChain({})).toMatchObject({
        intact: true,
        recordsChecked: BigInt(EXPORTED),
        firstBadSequence: 0n,
        problem: '',
        checkpointsChecked: 0n,
        recordsNotCovered: BigInt(EXPORTED),
        detail: `every record fits the chain; checkpoints are off (services.governance.checkpointKms is not set and kms-local, the default, is not built into this program), so only their hashes vouch for the ${EXPORTED} records`,
      });
    });
  });

  describe('CreateAuditCheckpoint', () => {
    it('says checkpoints are off, and why, when there is no KMS to sign with', async () => {
      await expect(orgAdmin.createAuditCheckpoint({})).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: 'audit checkpoints are off: services.governance.checkpointKms is not set and kms-local, the default, is not built into this program',
        reason: 'AUDIT_CHECKPOINTS_OFF',
      });
    });
  });

  describe('permissions', () => {
    it('answers UNAUTHENTICATED to every method called without a token', async () => {
      const results = await callEveryMethodWithoutToken([AuditServiceDesc], service.grpcAddress);
      expect(results.map((result) => result.code)).toEqual(AuditServiceDesc.methods.map(() => status.UNAUTHENTICATED));
    });

    it('lets no one below project admin read the log, and only an org admin verify it', async () => {
      await expect(editor.listAuditRecords({})).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'editor-1 has no role that may read Audit in any project',
      });
      await expect(projectAdmin.listAuditRecords({ filter: { projectId: 'p2' } })).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'admin-1 may not read Audit in project p2',
      });
      const exported = async () => {
        for await (const _ of editor.exportAuditRecords({})) return;
      };
      await expect(exported()).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(projectAdmin.verifyAuditChain({})).rejects.toMatchObject({
        code: status.PERMISSION_DENIED,
        details: 'admin-1 may not verify the audit chain: only org admins may',
        reason: 'ORG_ADMIN_REQUIRED',
      });
    });
  });

  describe('tampering', () => {
    it('names the record altered behind the service’s back', async () => {
      await tamper(service.dataSource, `UPDATE audit_records SET resource = 'runs/r-9' WHERE sequence = 3`);
      const answer = await orgAdmin.verifyAuditChain({});
      expect(answer).toMatchObject({ intact: false, recordsChecked: 3n, firstBadSequence: 3n, problem: 'altered' });
    });
  });

  it('keeps ingesting while serving: a new event appears in the list', async () => {
    const late = auditEvent({ projectId: 'p1', actor: 'late' });
    await publish(late);
    await eventually(async () => expect((await orgAdmin.listAuditRecords({ filter: { actor: 'late' } })).records.map((record) => record.event?.id)).toEqual([late.id]));
  });
});
