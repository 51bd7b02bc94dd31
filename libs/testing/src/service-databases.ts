import { createTestDatabase } from './test-database';
import { testNatsConfig } from './test-nats';

/** Where a spec's service keeps its data: the `TRELLIS_*` settings that say so, and what removes it afterwards. */
export interface ServiceDatabase {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * The two setups a service runs in, for `describe.each`: standalone on SQLite (no settings), and
 * distributed on a fresh PostgreSQL database of its own, with its own NATS stream. Pass `env` to
 * the platform the spec starts (TestPlatform.start), then call `cleanup` after stopping it.
 */
export function serviceDatabases(service: string): Array<[string, () => Promise<ServiceDatabase>]> {
  const standalone = async (): Promise<ServiceDatabase> => ({ env: {}, cleanup: async () => undefined });
  const distributed = async (): Promise<ServiceDatabase> => {
    const [database, nats] = [await createTestDatabase(), testNatsConfig()];
    return {
      env: { TRELLIS_MODE: 'distributed', [`TRELLIS_${service.toUpperCase()}_DATABASE_URL`]: database.config.url, ...nats.env },
      cleanup: async () => {
        await nats.cleanup();
        await database.drop();
      },
    };
  };
  return [
    ['SQLite', standalone],
    ['PostgreSQL', distributed],
  ];
}
