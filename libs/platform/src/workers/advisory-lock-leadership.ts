import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { KitLogger } from '../persistence/logger';
import { pause } from '@trellis/plugin-sdk';
import type { Lease, Leadership } from './leadership';

/** How often a replica that does not lead asks again, and how often the leader checks its connection. */
export interface AdvisoryLockTiming {
  retryMs: number;
  heartbeatMs: number;
}

const DEFAULT_TIMING: AdvisoryLockTiming = { retryMs: 2_000, heartbeatMs: 5_000 };

/**
 * Leadership by a PostgreSQL session advisory lock, held on a connection of its own: the server
 * releases it the moment that session ends, so a leader that dies or loses its connection hands
 * over without a lease to expire, and no clock is involved. Replicas that do not lead ask again
 * every `retryMs`; the leader runs `SELECT 1` every `heartbeatMs`, and treats a failed one, or
 * any error on the connection, as lost leadership. Needs a session-level connection (not a
 * transaction-pooling proxy such as PgBouncer in transaction mode).
 */
export class AdvisoryLockLeadership implements Leadership {
  private readonly key: string;
  private warned = false;

  constructor(
    private readonly url: string,
    /** What the lock is for, `<service>:<worker>`; the lock key is derived from it. */
    private readonly name: string,
    private readonly logger: KitLogger,
    private readonly timing: AdvisoryLockTiming = DEFAULT_TIMING,
  ) {
    this.key = createHash('sha256').update(`trellis.worker:${name}`).digest().readBigInt64BE(0).toString();
  }

  async acquire(stopped: AbortSignal): Promise<Lease | undefined> {
    let waitingLogged = false;
    while (!stopped.aborted) {
      const client = new Client({ connectionString: this.url, keepAlive: true, application_name: `trellis worker ${this.name}`.slice(0, 63) });
      const lost = new AbortController();
      client.on('error', (error) => {
        if (!lost.signal.aborted) this.logger.warn({ worker: this.name, err: error }, 'lost the database connection that holds the worker lock');
        lost.abort();
      });
      try {
        await client.connect();
        this.warned = false;
        while (!stopped.aborted && !lost.signal.aborted) {
          const rows = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.key]);
          if (rows.rows[0]?.locked) return this.lease(client, lost);
          if (!waitingLogged) this.logger.info({ worker: this.name }, 'another replica runs this worker; waiting to take over');
          waitingLogged = true;
          await pause(this.timing.retryMs, AbortSignal.any([stopped, lost.signal]));
        }
      } catch (error) {
        if (!this.warned) this.logger.warn({ worker: this.name, err: error }, 'cannot reach the database to run this worker; retrying');
        this.warned = true;
      }
      await client.end().catch(() => undefined);
      await pause(this.timing.retryMs, stopped);
    }
    return undefined;
  }

  private lease(client: Client, lost: AbortController): Lease {
    const heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(() => lost.abort());
    }, this.timing.heartbeatMs);
    heartbeat.unref();
    lost.signal.addEventListener('abort', () => void client.end().catch(() => undefined), { once: true });
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(heartbeat);
        // Ending the session releases the lock; a lost connection has released it already.
        await client.end().catch(() => undefined);
      },
    };
  }
}
