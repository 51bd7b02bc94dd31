import { create, fromBinary } from '@bufbuild/protobuf';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS, type EventBus, type EventSubscription } from '@trellis/platform';
import { AuditEventSchema, type AuditEvent } from '@trellis/proto';
import { DataSource } from 'typeorm';
import { AuditChain } from './audit-chain';
import { AuditCheckpointer } from './audit-checkpointer';
import { GroupCommit } from './group-commit';

/** Events handed to the ingest at once; they are appended in groups of up to this many. */
const INGEST_CONCURRENCY = 500;

/** The durable consumer that feeds the chain. */
export const AUDIT_DURABLE = 'governance-audit';
/** Every service's audit events. */
export const AUDIT_SUBJECT = 'trellis.*.v1.audit.recorded';

/**
 * Subscribes the chain to every service's audit events. Events are appended in groups (one
 * transaction for all events that arrived while the previous group committed) and acknowledged
 * once their group has committed; the chain skips event ids it already holds, so a redelivered or
 * republished event is appended once. The service recorded is the one named in the subject,
 * whatever the payload says; an event without an id or a time takes the envelope's. `appended`
 * hears how many records each committed group added.
 */
export function subscribeAuditEvents(bus: EventBus, dataSource: DataSource, chain: AuditChain, appended: (count: number) => void = () => undefined): Promise<EventSubscription> {
  const groups = new GroupCommit<AuditEvent>(async (events) => appended((await dataSource.transaction((manager) => chain.append(manager, events))).length));
  return bus.subscribe({
    durable: AUDIT_DURABLE,
    subject: AUDIT_SUBJECT,
    concurrency: INGEST_CONCURRENCY,
    handler: async (envelope) => {
      const event = fromBinary(AuditEventSchema, envelope.payload);
      await groups.add(
        create(AuditEventSchema, {
          ...event,
          id: event.id || envelope.id,
          // The subject names the service that published it; a payload cannot claim to be another.
          service: envelope.subject.split('.')[1],
          eventTime: event.eventTime ?? envelope.eventTime,
        }),
      );
    },
  });
}

/** Runs {@link subscribeAuditEvents} while the governance module lives, telling the checkpointer what it appended. */
@Injectable()
export class AuditIngest implements OnModuleInit, OnModuleDestroy {
  private subscription?: EventSubscription;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly dataSource: DataSource,
    private readonly chain: AuditChain,
    private readonly checkpointer: AuditCheckpointer,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await subscribeAuditEvents(this.bus, this.dataSource, this.chain, (count) => this.checkpointer.recordsAppended(count));
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
  }
}
