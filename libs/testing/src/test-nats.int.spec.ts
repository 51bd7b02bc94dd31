import { connect, type NatsConnection } from 'nats';
import { testRunId } from './run-id';
import { testNatsConfig } from './test-nats';

describe('testNatsConfig', () => {
  let connection: NatsConnection;

  beforeAll(async () => {
    connection = await connect({ servers: testNatsConfig().servers });
  });

  afterAll(async () => {
    await connection.close();
  });

  it('names a stream and subject prefix of its own for each call', () => {
    const one = testNatsConfig();
    const two = testNatsConfig();

    expect(one.stream).toMatch(new RegExp(`^TRELLIS_${testRunId().toUpperCase()}_${process.pid}_\\d+$`));
    expect(one.subjectPrefix).toMatch(new RegExp(`^t_${testRunId()}_${process.pid}_\\d+$`));
    expect(two.stream).not.toBe(one.stream);
    expect(two.subjectPrefix).not.toBe(one.subjectPrefix);
  });

  it('cleanup() deletes the stream, and does nothing when there is none', async () => {
    const config = testNatsConfig();
    const manager = await connection.jetstreamManager();
    await manager.streams.add({ name: config.stream, subjects: [`${config.subjectPrefix}.trellis.>`] });

    await config.cleanup();
    await config.cleanup();

    const names: string[] = [];
    for await (const stream of manager.streams.list()) names.push(stream.config.name);
    expect(names).not.toContain(config.stream);
  });
});
