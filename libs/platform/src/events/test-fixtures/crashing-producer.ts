// Test-only: a service process for outbox-crash.int.spec.ts, to be killed with SIGKILL at any moment.
// Run: node tools/bench/run.cjs <this file> '<database config as JSON>' <delivered file>
// It commits widgets with their WidgetCreated events one after another, in batches of 1 to 8 per
// transaction (`Outbox.publish` and `publishAll`), printing `committed <event id>` once each commit
// returned, while an OutboxRelay woken by each commit delivers them to a bus that appends each event
// id to the delivered file (the outside world's record of what was delivered).
import 'reflect-metadata';
import { create } from '@bufbuild/protobuf';
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { WidgetCreatedSchema } from '../../../test/gen/trellis/kittest/v1/widget_service_pb';
import type { DatabaseConfig } from '../../persistence/database-config';
import { openDatabase } from '../../persistence/open-database';
import { WidgetRow, widgetTables } from '../../persistence/test-fixtures/widgets';
import { Outbox } from '../outbox';
import { OutboxRelay } from '../outbox-relay';
import { WIDGET_CREATED } from './widget-events';

async function main(config: DatabaseConfig, deliveredFile: string): Promise<void> {
  const dataSource = await openDatabase({ service: 'crash-test', database: config, ...widgetTables });
  const relay = new OutboxRelay({
    dataSource,
    batchSize: 5,
    bus: {
      publish: async (envelope) => appendFileSync(deliveredFile, `${envelope.id}\n`),
      subscribe: () => Promise.reject(new Error('not used')),
      watch: () => Promise.reject(new Error('not used')),
      close: async () => undefined,
    },
  });
  const outbox = new Outbox({ relay });
  relay.start();
  for (let round = 0; ; round++) {
    const size = (round % 8) + 1;
    const ids = await dataSource.transaction(async (manager) => {
      const names = Array.from({ length: size }, (_, index) => `w-${round}-${index}`);
      await manager.insert(WidgetRow, names.map((name) => ({ id: randomUUID(), name, size: '1' })));
      const events = names.map((name) => ({ subject: WIDGET_CREATED, schema: WidgetCreatedSchema, message: create(WidgetCreatedSchema, { widget: { name } }) }));
      return size === 1 ? [await outbox.publish(manager, events[0])] : outbox.publishAll(manager, events);
    });
    process.stdout.write(ids.map((id) => `committed ${id}\n`).join(''));
    // As calls from the network would, leave the relay a turn between transactions.
    await setImmediate();
  }
}

const [config, deliveredFile] = process.argv.slice(2);
void main(JSON.parse(config) as DatabaseConfig, deliveredFile);
