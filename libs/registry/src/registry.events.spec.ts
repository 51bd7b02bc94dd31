import { create } from '@bufbuild/protobuf';
import { Outbox } from '@trellis/platform';
import { AliasDeletedEventSchema, file_trellis_registry_v1_events } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { registryEvents } from './registry.events';

describe('the registry event catalog', () => {
  it('gives every message of registry/v1/events.proto a subject', () => {
    const published = new Set<string>(Object.values(registryEvents.table).map((schema) => schema.typeName));
    expect(file_trellis_registry_v1_events.messages.map((message) => message.typeName).filter((name) => !published.has(name))).toEqual([]);
  });

  it('does not let an AliasDeletedEvent go out as alias.set, in types or at run time', async () => {
    const deleted = create(AliasDeletedEventSchema, { projectId: 'p-1', modelName: 'champion' });
    const manager = {} as EntityManager;

    await expect(
      // @ts-expect-error alias.set carries an AliasSetEvent
      new Outbox().publish(manager, registryEvents, { subject: 'trellis.registry.v1.alias.set', message: deleted }),
    ).rejects.toThrow('event subject "trellis.registry.v1.alias.set" carries trellis.registry.v1.AliasSetEvent, not trellis.registry.v1.AliasDeletedEvent');
  });
});
