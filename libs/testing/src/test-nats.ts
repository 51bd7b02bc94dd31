import { connect, type NatsError } from 'nats';
import { testRunId, uniqueTestName } from './run-id';

/** NATS settings for one test's own stream; the fields match `JetStreamBus.connect`'s options. */
export interface TestNatsConfig {
  /** The server: `TRELLIS_TEST_NATS_URL` (default `nats://127.0.0.1:4222`) unless the caller named one. */
  servers: string;
  /** `TRELLIS_<RUN ID>_<n>`: a stream no other test or run uses. */
  stream: string;
  /** `t_<run id>_<n>`: the stream captures `<prefix>.trellis.>`, so streams never overlap. */
  subjectPrefix: string;
  /** The `TRELLIS_NATS_*` variables that point a process at this stream. */
  env: Record<string, string>;
  /** Deletes the stream (and its consumers); does nothing if it was never created. */
  cleanup(): Promise<void>;
}

/** The NATS server tests use. */
export function testNatsUrl(): string {
  return process.env['TRELLIS_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
}

/** A fresh stream name and subject prefix on the test NATS server (or on `servers`), for one test. */
export function testNatsConfig(servers = testNatsUrl()): TestNatsConfig {
  const name = uniqueTestName('t');
  const stream = `TRELLIS_${name.slice(2).toUpperCase()}`;
  return {
    servers,
    stream,
    subjectPrefix: name,
    env: { TRELLIS_NATS_URL: servers, TRELLIS_NATS_STREAM: stream, TRELLIS_NATS_SUBJECT_PREFIX: name },
    cleanup: async () => {
      const connection = await connect({ servers, name: `trellis-test-cleanup-${testRunId()}` });
      try {
        const manager = await connection.jetstreamManager();
        await manager.streams.delete(stream).catch((error: NatsError) => {
          if (error.api_error?.code !== 404) throw error;
        });
      } finally {
        await connection.close();
      }
    },
  };
}
