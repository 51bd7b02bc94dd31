import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { AuditEventSchema, Outcome, type AuditEvent } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { WidgetService } from '../../test/gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from '../../test/widget/widget.service';
import type { EventSubscription, RunningService } from '..';
import { TestPlatform } from '../testing';

describe('refused calls in the audit log', () => {
  let platform: TestPlatform;
  let service: RunningService;
  let subscription: EventSubscription;
  const events: AuditEvent[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start();
    service = await platform.startService(widgetService);
    subscription = await platform.runtime.bus.subscribe({
      durable: 'refusal-audit-spec',
      subject: 'trellis.widgets.v1.audit.recorded',
      handler: async (envelope) => void events.push(fromBinary(AuditEventSchema, envelope.payload)),
    });
  });

  afterAll(async () => {
    await subscription?.stop();
    await platform?.stop();
  });

  const recorded = (requestId: string) => eventually(() => {
    const event = events.find((candidate) => candidate.requestId === requestId);
    expect(event).toBeDefined();
    return event!;
  });

  it('records a NOT_FOUND answer as denied, so probing another project’s ids leaves a trace', async () => {
    const owner = await platform.client(WidgetService, service.grpcAddress, { sub: 'owner-1', bindings: [{ project: 'p1', role: 'owner' }] });
    const prober = await platform.client(WidgetService, service.grpcAddress, { sub: 'viewer-2', bindings: [{ project: 'p2', role: 'viewer' }] });
    const { widget } = await owner.createWidget({ projectId: 'p1', name: 'secret' });

    await expect(prober.getWidget({ id: widget!.id }, { requestId: 'req-probe' })).rejects.toMatchObject({ code: status.NOT_FOUND });

    expect(await recorded('req-probe')).toMatchObject({
      actor: 'viewer-2',
      action: 'read',
      method: 'trellis.kittest.v1.WidgetService/GetWidget',
      outcome: Outcome.DENIED,
      reason: `NOT_FOUND: widget ${widget!.id} not found`,
    });
  });

  it('records a lookup of something missing from the caller’s own project the same way, as the two read alike', async () => {
    const editor = await platform.client(WidgetService, service.grpcAddress, { sub: 'editor-1', bindings: [{ project: 'p1', role: 'editor' }] });
    await expect(editor.getWidget({ id: 'missing' }, { requestId: 'req-missing' })).rejects.toMatchObject({ code: status.NOT_FOUND });

    expect(await recorded('req-missing')).toMatchObject({ actor: 'editor-1', outcome: Outcome.DENIED, reason: 'NOT_FOUND: widget missing not found' });
  });
});
