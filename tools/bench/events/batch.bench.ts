// Events per second handed to the event bus one at a time (each publish awaited, as the outbox
// relay and a naive publisher do) against the BatchPublisher (batches of BENCH_BATCH, pipelined),
// on NATS JetStream (a private stream on the test server) and on the in-process bus, in one run.
// Rounds alternate the two ways; figures are medians over rounds. A publish counts once the bus has
// taken it (JetStream acknowledged storing it; in-process: its subscriber returned).
// Run: node tools/bench/run.cjs tools/bench/events/batch.bench.ts
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { BatchPublisher, defineEvents, InProcessBus, JetStreamBus, type EventBus } from '@trellis/platform';
import { AuditEventSchema, EventEnvelopeSchema, Outcome, type AuditEvent } from '@trellis/proto';
import { testNatsConfig } from '@trellis/testing';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { toBinary } from '@bufbuild/protobuf';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 3000);
const BATCHED = Number(process.env.BENCH_BATCHED ?? 30_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 256);
const SUBJECT = 'trellis.bench.v1.prediction.logged';

// No prediction-log message exists yet: an AuditEvent of about the same size stands in for one.
const benchEvents = defineEvents({ [SUBJECT]: AuditEventSchema });

function message(index: number): AuditEvent {
  return create(AuditEventSchema, {
    id: randomUUID(),
    service: 'serving',
    actor: `sa-endpoint-${index % 7}`,
    action: 'predict',
    method: 'inference.GRPCInferenceService/ModelInfer',
    resource: `Endpoint/${randomUUID()}`,
    projectId: `project-${index % 13}`,
    outcome: Outcome.SUCCEEDED,
    requestId: randomUUID(),
    eventTime: timestampNow(),
    clientAddress: 'ipv4:10.1.2.3:51234',
  });
}

const payloadBytes = toBinary(AuditEventSchema, message(0)).byteLength;

async function oneAtATime(bus: EventBus, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index++) {
    const event = message(index);
    await bus.publish(
      create(EventEnvelopeSchema, {
        id: randomUUID(),
        subject: SUBJECT,
        payloadType: AuditEventSchema.typeName,
        payload: toBinary(AuditEventSchema, event),
        eventTime: timestampNow(),
        projectId: event.projectId,
      }),
    );
  }
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function batched(bus: EventBus, count: number): Promise<number> {
  const publisher = new BatchPublisher({ bus, events: benchEvents, batchSize: BATCH, bufferSize: 8 * BATCH });
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index++) {
    const event = message(index);
    await publisher.publish(SUBJECT, event, { projectId: event.projectId });
  }
  await publisher.flush();
  const perSecond = count / (Number(process.hrtime.bigint() - started) / 1e9);
  await publisher.close();
  return perSecond;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(name: string, bus: EventBus): Promise<string> {
  const single: number[] = [];
  const batch: number[] = [];
  await batched(bus, BATCH * 4);
  for (let round = 0; round < ROUNDS; round++) {
    single.push(await oneAtATime(bus, SINGLE));
    batch.push(await batched(bus, BATCHED));
  }
  const [a, b] = [median(single), median(batch)];
  return `${name.padEnd(22)} ${a.toFixed(0).padStart(12)} /s ${b.toFixed(0).padStart(14)} /s ${(b / a).toFixed(1).padStart(8)}x`;
}

async function main(): Promise<void> {
  const nats = testNatsConfig();
  const jetStream = await JetStreamBus.connect({ servers: nats.servers, stream: nats.stream, subjectPrefix: nats.subjectPrefix, maxAgeMs: 3600_000 });
  const inProcess = new InProcessBus();
  await inProcess.subscribe({ durable: 'bench', subject: SUBJECT, handler: async () => undefined });
  try {
    const rows = [await measure('NATS JetStream', jetStream), await measure('in-process bus', inProcess)];
    console.log(`event publishing, ${ROUNDS} rounds (medians): ${SINGLE} events one at a time, ${BATCHED} batched (batches of ${BATCH}) per round`);
    console.log(`node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model.trim()}), load ${loadavg()[0].toFixed(2)}, ${payloadBytes} B payload, nats-server on loopback, one process`);
    console.log(`${'bus'.padEnd(22)} ${'one at a time'.padStart(15)} ${'BatchPublisher'.padStart(17)} ${'ratio'.padStart(9)}`);
    for (const row of rows) console.log(row);
  } finally {
    await jetStream.close();
    await inProcess.close();
    await nats.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
