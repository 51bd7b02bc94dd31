import { create } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { WidgetCreatedSchema, WidgetSchema, type WidgetCreated } from '../../../test/gen/trellis/kittest/v1/widget_service_pb';
import { SeenWidgetRow, WidgetRow } from '../../persistence/test-fixtures/widgets';
import type { EventEnvelope } from '@trellis/proto';
import type { EventBus } from '../event-bus';
import { defineEvents } from '../event-catalog';
import type { Outbox } from '../outbox';

/** Test-only: the subject WidgetCreated events go to. */
export const WIDGET_CREATED = 'trellis.kittest.v1.widget.created';

/** Test-only: the subject a deleted Widget goes to. */
export const WIDGET_DELETED = 'trellis.kittest.v1.widget.deleted';

/** Test-only: the kittest service's event catalog. */
export const widgetEvents = defineEvents({
  [WIDGET_CREATED]: WidgetCreatedSchema,
  [WIDGET_DELETED]: WidgetSchema,
});

/**
 * Test-only: what a service does: stores a widget and publishes WidgetCreated in one transaction.
 * With `failAfterPublish` the transaction throws after publishing, so both roll back.
 */
export async function createWidget(
  dataSource: DataSource,
  outbox: Outbox,
  name: string,
  options: { failAfterPublish?: boolean } = {},
): Promise<{ widgetId: string; eventId: string }> {
  const widgetId = randomUUID();
  return dataSource.transaction(async (manager) => {
    await manager.insert(WidgetRow, { id: widgetId, name, size: '42' });
    const eventId = await outbox.publish(manager, widgetEvents, {
      subject: WIDGET_CREATED,
      message: create(WidgetCreatedSchema, { widget: { id: widgetId, projectId: 'p-1', name, size: 42n } }),
      projectId: 'p-1',
      actor: 'user-7',
      requestId: `req-${name}`,
    });
    if (options.failAfterPublish) throw new Error(`creating ${name} failed after publishing`);
    return { widgetId, eventId };
  });
}

/** Test-only: a consumer's side effect: one SeenWidgetRow per widget it acted on. */
export async function recordSeenWidget(message: WidgetCreated, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
  await manager.insert(SeenWidgetRow, { id: randomUUID(), widgetId: message.widget?.id ?? '', eventId: envelope.id });
}

/** Test-only: the widget ids a consumer has acted on, once per time it acted, sorted. */
export async function seenWidgets(dataSource: DataSource): Promise<string[]> {
  return (await dataSource.getRepository(SeenWidgetRow).find()).map((row) => row.widgetId).sort();
}

/**
 * Test-only: a bus whose publish reaches the real bus and then fails, as if the relay's process
 * died after publishing and before recording it. `published` lists what went through.
 */
export function busThatDiesAfterPublishing(bus: EventBus): EventBus & { published: string[] } {
  const published: string[] = [];
  return {
    published,
    publish: async (envelope) => {
      await bus.publish(envelope);
      published.push(envelope.id);
      throw new Error('relay process died before recording the publish');
    },
    subscribe: (options) => bus.subscribe(options),
    watch: (options) => bus.watch(options),
    close: () => bus.close(),
  };
}
