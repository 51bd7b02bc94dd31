import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { AccessRevokedEventSchema, EventEnvelopeSchema } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import { WidgetService } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from '../../test/widget/widget.service';
import type { RunningService } from '../service';
import { TestPlatform } from '../testing';
import { ACCESS_REVOKED_SUBJECT } from './revocation-feed';

describe('a service refuses tokens as soon as governance publishes their revocation', () => {
  let platform: TestPlatform;
  let service: RunningService;
  const editor = { sub: 'user-1', bindings: [{ project: 'p-1', role: 'editor' as const }] };

  beforeAll(async () => {
    platform = await TestPlatform.start();
    service = await platform.startService(widgetService);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  const revoke = (event: { apiKeyId?: string; principalId: string; accessVersion?: number }) =>
    platform.runtime.bus.publish(
      create(EventEnvelopeSchema, {
        id: randomUUID(),
        subject: ACCESS_REVOKED_SUBJECT,
        payloadType: AccessRevokedEventSchema.typeName,
        payload: toBinary(AccessRevokedEventSchema, create(AccessRevokedEventSchema, { ...event, expireTime: timestampFromMs(Date.now() + 60_000) })),
      }),
    );
  /** What the service answers `client` for a widget that does not exist: NOT_FOUND once the caller got through. */
  const outcome = (client: { getWidget(request: { id: string }): Promise<unknown> }) =>
    client.getWidget({ id: 'none' }).then(
      () => 'found',
      (error: { code: number; details: string }) => (error.code === status.NOT_FOUND ? 'let through' : error.details),
    );
  const clientAs = (claims: Parameters<TestPlatform['client']>[2]) => platform.client(WidgetService, service.grpcAddress, claims);

  it("refuses a token it already verified once its API key is revoked, and keeps taking the principal's other keys", async () => {
    const client = await clientAs({ ...editor, apiKeyId: 'key-a' });
    expect(await outcome(client)).toBe('let through');

    await revoke({ apiKeyId: 'key-a', principalId: 'user-1' });

    expect(await outcome(client)).toBe('token revoked: its API key key-a was revoked');
    expect(await outcome(await clientAs({ ...editor, apiKeyId: 'key-b' }))).toBe('let through');
  });

  it("refuses a principal's tokens issued before its roles were reduced, and takes those issued after", async () => {
    const before = await clientAs({ ...editor, sub: 'user-2', accessVersion: 4 });
    expect(await outcome(before)).toBe('let through');

    await revoke({ principalId: 'user-2', accessVersion: 5 });

    expect(await outcome(before)).toMatch(/^token revoked: the roles of user-2 were reduced after it was issued/);
    expect(await outcome(await clientAs({ ...editor, sub: 'user-2', accessVersion: 5 }))).toBe('let through');
  });
});
