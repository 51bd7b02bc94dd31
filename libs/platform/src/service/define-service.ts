import type { DescMessage, DescService, MessageShape } from '@bufbuild/protobuf';
import type { Type } from '@nestjs/common';
import type { PluginKind } from '@trellis/plugin-sdk';
import type { EventEnvelope } from '@trellis/proto';
import type { ReceivedEvent } from '../events/subscribe-idempotent';
import type { DataSourceOptions, EntityManager } from 'typeorm';
import { z } from 'zod';
import { KIT_SECTION_KEYS } from '../config/service-section';
import type { Worker } from '../workers/worker';
import type { DefaultInstance } from '../plugins/default-instances';

/**
 * A Nest provider that acts on one kind of event. The kit calls `handle` inside a transaction of
 * the service's database that also records the event id in the inbox, so each event acts once.
 */
export interface EventHandlerProvider<Desc extends DescMessage = DescMessage> {
  /** Writes through `manager` commit with the inbox record; throwing rolls back and the event comes again. */
  handle(message: MessageShape<Desc>, envelope: EventEnvelope, manager: EntityManager): Promise<void>;
}

/**
 * A Nest provider that acts on events in batches (a batched subscription, for events that come by
 * the thousand). The kit calls `handleBatch` with the batch's events the inbox had not seen, in
 * stream order, inside one transaction that also records all of them in the inbox.
 */
export interface BatchEventHandlerProvider<Desc extends DescMessage = DescMessage> {
  /** Writes through `manager` commit with the inbox records; throwing rolls back and every event of the batch comes again. */
  handleBatch(events: ReadonlyArray<ReceivedEvent<Desc>>, manager: EntityManager): Promise<void>;
}

/**
 * How a batched subscription gathers its events: up to `maxEvents` (1 to 10,000) a batch, which
 * goes at most `lingerMs` (0 to 10,000) after its first event arrived, sooner when full.
 */
export interface SubscriptionBatch {
  maxEvents: number;
  lingerMs: number;
}

/** The most events a batch may hold: the inbox INSERT binds three values an event, under SQLite's 32,766. */
export const MAX_BATCH_EVENTS = 10_000;
/** The longest a batch may wait for more events, in ms. */
export const MAX_BATCH_LINGER_MS = 10_000;

interface SubscriptionTarget<Desc extends DescMessage> {
  /** Subject pattern, NATS wildcards allowed: `trellis.tracking.v1.run.finished`. */
  subject: string;
  /** The payload's generated schema; events with another payload type are acknowledged and skipped. */
  schema: Desc;
  /**
   * The durable consumer's name, kept across restarts and shared by the service's replicas.
   * Default: `<service>-<handler class name in kebab case>`.
   */
  durable?: string;
}

/**
 * One event subscription of a service: what it receives and which provider handles it, one event
 * at a time (`handle`), or in batches when it declares `batch` (`handleBatch`).
 */
export type SubscriptionDefinition<Desc extends DescMessage = DescMessage> = SubscriptionTarget<Desc> &
  (
    | {
        /** The handler: a provider of the service's module. */
        handler: Type<EventHandlerProvider<Desc>>;
        batch?: undefined;
      }
    | {
        /** The handler: a provider of the service's module, with `handleBatch`. */
        handler: Type<BatchEventHandlerProvider<Desc>>;
        batch: SubscriptionBatch;
      }
  );

/** Declares a subscription, inferring the handler's message type from `schema`. */
export function subscription<Desc extends DescMessage>(definition: SubscriptionDefinition<Desc>): SubscriptionDefinition {
  return definition as unknown as SubscriptionDefinition;
}

/** How a service uses a kind of plugin, as the docs list it and the start checks it. */
export interface PluginUse {
  /** What the service does with it, for the docs and the start-up error. */
  purpose: string;
  /**
   * A service that can run without any plugin of the kind (with the feature off) says so; by
   * default a process without one refuses to start.
   */
  optional?: boolean;
  /**
   * Instances of the kind the service needs by name for its own work, made for it when the config
   * declares none of that name (`kms.<name>`) and the plugin is in the program: governance's
   * `audit-checkpoints` is kms-local with `<dataDir>/keys/audit-checkpoint.key`. Its settings then
   * name instances, and an operator replaces one by declaring it in the config.
   */
  defaults?: Readonly<Record<string, DefaultInstance>>;
}

/**
 * Everything the kit needs to run one Trellis service, in either mode: its whole contract with
 * the kit. A service lib exports one of these; `apps/standalone` and `apps/<service>` each
 * register it with one line.
 */
export interface ServiceDefinition<Config extends z.ZodObject = z.ZodObject> {
  /** Lowercase name: `governance`, `tracking`, ... Used in config keys, database names and logs. */
  name: string;
  /** One line on what the service is for, as docs/configuration.md lists it. */
  description?: string;
  /** The gRPC port used unless configured otherwise. */
  defaultPort: number;
  /**
   * The service's own settings: a zod object of flat keys, validated at start as the section
   * `services.<name>` of trellis.yaml, each key also set by `TRELLIS_<NAME>_<KEY>` (the key in
   * upper snake case). Describe each key (`.describe()`): docs/configuration.md is generated from
   * it. Inject the parsed values with `@Inject(SERVICE_CONFIG)`.
   */
  config?: Config;
  /** The service's Nest module: its gRPC controllers and their providers. */
  module: Type<unknown>;
  /** The protobuf-es services it answers; every method must have a handler with a declared permission. */
  grpcServices: readonly DescService[];
  /**
   * Events it acts on, each once (through the inbox), subscribed when the service starts and
   * stopped when it drains. Declare each with {@link subscription}.
   */
  subscriptions?: readonly SubscriptionDefinition[];
  /**
   * Background work: providers of the module started once the database is migrated and the
   * server listens, stopped first when the service drains, and run by one replica at a time
   * when several share a PostgreSQL database.
   */
  workers?: readonly Type<Worker>[];
  /** The plugin kinds it uses; the start refuses a process without a plugin of a kind it needs. */
  plugins?: Partial<Record<PluginKind, PluginUse>>;
  /**
   * Work it runs as its own service account, beyond the request that asked for it (the registry's
   * copies): such a service gets its credential at start (standalone: from governance in the same
   * process; distributed: `services.<name>.credential`, without which it refuses to start) and
   * calls other services through the injectable ServiceIdentity.
   */
  identity?: { purpose: string };
  /**
   * Other platform services this one calls (registry calls tracking and governance). A process
   * that does not host one of them refuses to start unless `services.<name>.address` says where it is.
   */
  calls?: readonly string[];
  /** TypeORM entities of the service's own database. */
  entities?: DataSourceOptions['entities'];
  /** Migrations of the service's own database, in order. */
  migrations?: DataSourceOptions['migrations'];
}

/** The parsed config section of a service definition, as `@Inject(SERVICE_CONFIG)` gives it. */
export type ServiceConfigOf<Config extends z.ZodObject> = z.output<Config>;

/** Declares a service, checking what can be checked before anything starts. */
export function defineService<Config extends z.ZodObject>(definition: ServiceDefinition<Config>): ServiceDefinition {
  if (!/^[a-z][a-z0-9]*$/.test(definition.name)) {
    throw new Error(`service name "${definition.name}" must be lowercase letters and digits`);
  }
  for (const key of Object.keys(definition.config?.shape ?? {})) {
    if (KIT_SECTION_KEYS.includes(key)) throw new Error(`${definition.name}'s config declares ${key}, which the kit sets for every service`);
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) throw new Error(`${definition.name}'s config key "${key}" must be lowerCamelCase, so that its variable name maps back to it`);
  }
  for (const declared of definition.subscriptions ?? []) checkBatch(definition.name, declared);
  const durables = (definition.subscriptions ?? []).map((declared) => durableName(definition.name, declared));
  const repeated = durables.find((durable, index) => durables.indexOf(durable) !== index);
  if (repeated) throw new Error(`${definition.name} subscribes twice as ${repeated}: give one of them a durable name of its own`);
  return definition as unknown as ServiceDefinition;
}

function checkBatch(service: string, declared: SubscriptionDefinition): void {
  if (declared.batch === undefined) return;
  const { maxEvents, lingerMs } = declared.batch;
  const where = `${service}'s subscription ${durableName(service, declared)}`;
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_BATCH_EVENTS) {
    throw new Error(`${where} declares batch.maxEvents ${maxEvents}: it must be a whole number from 1 to ${MAX_BATCH_EVENTS}`);
  }
  if (typeof lingerMs !== 'number' || !(lingerMs >= 0 && lingerMs <= MAX_BATCH_LINGER_MS)) {
    throw new Error(`${where} declares batch.lingerMs ${lingerMs}: it must be from 0 to ${MAX_BATCH_LINGER_MS} ms`);
  }
}

/** The durable name of a subscription: its own, else `<service>-<handler class in kebab case>`. */
export function durableName(service: string, subscription: SubscriptionDefinition): string {
  return subscription.durable ?? `${service}-${subscription.handler.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}
