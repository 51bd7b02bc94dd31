import { create, toBinary, type MessageShape } from '@bufbuild/protobuf';
import { Inject, Injectable, Module } from '@nestjs/common';
import { EventEnvelopeSchema, type EventEnvelope } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { WidgetCreatedSchema } from '../../../test/gen/trellis/kittest/v1/widget_service_pb';
import { widgetService } from '../../../test/widget/widget.service';
import { recordSeenWidget, WIDGET_CREATED } from '../../events/test-fixtures/widget-events';
import { widgetTables } from '../../persistence/test-fixtures/widgets';
import type { Worker } from '../../workers/worker';
import { defineService, subscription, type EventHandlerProvider, type ServiceConfigOf } from '../define-service';
import { SERVICE_CONFIG } from '../kit.module';

/** Test-only: the widgets service's own settings. */
export const widgetSettings = z.object({
  replica: z.string().default('only').describe('which replica this process is, as the worker reports it'),
  greeting: z.string().default('hello').describe('a word the service says'),
  failFirstRuns: z.coerce.number().int().min(0).default(0).describe('how many runs of the worker throw before one works'),
});

/** Test-only: what the worker and the handler did, shared by every replica of the process. */
export const activity = {
  /** Replicas whose worker runs now. */
  running: new Set<string>(),
  /** One entry per run of a worker, by replica. */
  runs: [] as string[],
  /** Calls of the event handler, redeliveries the inbox stopped excluded. */
  handled: 0,
  /** What each stopped worker found when it was stopped: whether its database still answered. */
  stops: [] as string[],
  reset() {
    this.running.clear();
    this.runs.length = 0;
    this.handled = 0;
    this.stops.length = 0;
  },
};

/** Test-only: a worker that runs until stopped, after throwing on its first `failFirstRuns` runs. */
@Injectable()
export class WidgetWorker implements Worker {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfigOf<typeof widgetSettings>,
    private readonly dataSource: DataSource,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    activity.runs.push(this.config.replica);
    if (activity.runs.filter((replica) => replica === this.config.replica).length <= this.config.failFirstRuns) {
      throw new Error(`widget worker of ${this.config.replica} failed on purpose`);
    }
    activity.running.add(this.config.replica);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    const database = await this.dataSource.query('SELECT 1 AS one').then(() => 'database open', (error: Error) => `database gone: ${error.message}`);
    activity.stops.push(`${this.config.replica}: ${database}`);
    activity.running.delete(this.config.replica);
  }
}

/** Test-only: records each WidgetCreated it acts on. */
@Injectable()
export class WidgetSeenHandler implements EventHandlerProvider<typeof WidgetCreatedSchema> {
  async handle(message: MessageShape<typeof WidgetCreatedSchema>, envelope: EventEnvelope, manager: EntityManager): Promise<void> {
    activity.handled += 1;
    await recordSeenWidget(message, envelope, manager);
  }
}

/** Test-only: gives the service's settings to a spec. */
@Injectable()
export class SettingsProbe {
  constructor(@Inject(SERVICE_CONFIG) readonly config: ServiceConfigOf<typeof widgetSettings>) {}
}

@Module({ imports: [widgetService.module], providers: [WidgetWorker, WidgetSeenHandler, SettingsProbe] })
class KitV2WidgetModule {}

/** Test-only: the widgets service with a config section, a worker, a subscription and a plugin kind it needs. */
export const kitV2WidgetService = defineService({
  ...widgetService,
  config: widgetSettings,
  module: KitV2WidgetModule,
  entities: [...(widgetService.entities as []), ...widgetTables.entities],
  migrations: [...(widgetService.migrations as []), ...widgetTables.migrations],
  subscriptions: [subscription({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, handler: WidgetSeenHandler })],
  workers: [WidgetWorker],
});

/** Test-only: a WidgetCreated envelope as the relay would deliver it. */
export function widgetCreatedEnvelope(widgetId: string, id: string = randomUUID()): EventEnvelope {
  return create(EventEnvelopeSchema, {
    id,
    subject: WIDGET_CREATED,
    payloadType: WidgetCreatedSchema.typeName,
    payload: toBinary(WidgetCreatedSchema, create(WidgetCreatedSchema, { widget: { id: widgetId } })),
  });
}
