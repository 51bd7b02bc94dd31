import { create } from '@bufbuild/protobuf';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS, LOGGER, subscribeIdempotent, type EventBus, type EventSubscription, type KitLogger } from '@trellis/platform';
import { AuditEventSchema } from '@trellis/proto';
import { DataSource } from 'typeorm';
import { AuditChain } from './audit-chain';

/** The durable consumer that feeds the chain. */
export const AUDIT_DURABLE = 'governance-audit';
/** Every service's audit events. */
export const AUDIT_SUBJECT = 'trellis.*.v1.audit.recorded';

/**
 * Subscribes the chain to every service's audit events: each is appended in the transaction that
 * records it in the inbox, so a redelivered event is appended once. An event without an id, a
 * service or a time takes the envelope's id, the service named in its subject and the envelope's time.
 */
export function subscribeAuditEvents(bus: EventBus, dataSource: DataSource, chain: AuditChain, logger?: KitLogger): Promise<EventSubscription> {
  return subscribeIdempotent(bus, dataSource, {
    durable: AUDIT_DURABLE,
    subject: AUDIT_SUBJECT,
    schema: AuditEventSchema,
    logger,
    handle: async (event, envelope, manager) => {
      const completed = create(AuditEventSchema, {
        ...event,
        id: event.id || envelope.id,
        service: event.service || envelope.subject.split('.')[1],
        occurredAt: event.occurredAt ?? envelope.occurredAt,
      });
      await chain.append(manager, [completed]);
    },
  });
}

/** Runs {@link subscribeAuditEvents} while the governance module lives. */
@Injectable()
export class AuditIngest implements OnModuleInit, OnModuleDestroy {
  private subscription?: EventSubscription;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly dataSource: DataSource,
    private readonly chain: AuditChain,
    @Inject(LOGGER) private readonly logger: KitLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscription = await subscribeAuditEvents(this.bus, this.dataSource, this.chain, this.logger);
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
  }
}
