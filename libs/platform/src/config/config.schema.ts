import { z } from 'zod';
import { API_KEY_PATTERN } from '../auth/api-key-format';
import { LOG_FORMATS, LOG_LEVELS } from '../ops/logger';
import { serviceSectionSchema } from './service-section';

const port = z.coerce.number().int().min(0, 'must be a port number from 0 to 65535').max(65535, 'must be a port number from 0 to 65535');
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');
const hostPort = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port');

/**
 * The whole configuration of a Trellis process: `trellis.yaml` (or the file named by
 * `TRELLIS_CONFIG`) overlaid with `TRELLIS_*` environment variables (see ENVIRONMENT).
 */
export const configSchema = z
  .object({
    /** standalone: every service in one process on SQLite; distributed: one service, PostgreSQL and NATS. */
    mode: z.enum(['standalone', 'distributed']).default('standalone'),
    /** Where standalone keeps its SQLite files and blobs. */
    dataDir: z.string().min(1).default('./.trellis'),
    /** Address services bind to. */
    host: z.string().min(1).default('127.0.0.1'),
    log: z
      .object({
        level: z.enum(LOG_LEVELS).default('info'),
        /** `pretty`: one readable line per entry; `json`: one JSON object per line; `auto`: pretty when stdout is a terminal. */
        format: z.enum(LOG_FORMATS).default('auto'),
      })
      .prefault({}),
    /** HTTP port of /healthz, /readyz and /metrics; 0 picks a free one. */
    opsPort: port.default(9464),
    auth: z
      .object({
        /** URL of governance's JSON Web Key Set. */
        jwksUrl: z.url().optional(),
        /** A JSON Web Key Set file, for tests and air-gapped installs. */
        jwksFile: z.string().min(1).optional(),
        issuer: z.string().min(1).default('trellis-governance'),
        audience: z.string().min(1).default('trellis'),
        /** Lifetime of tokens governance issues; a changed role binding takes effect within it. */
        tokenTtlSeconds: z.coerce.number().int().min(30, 'must be at least 30 seconds').max(86_400, 'must be at most a day').default(300),
        /** Key exchanges allowed per API key per second (burst: four times as many). */
        exchangesPerKeyPerSecond: z.coerce.number().positive('must be a positive number').default(5),
        /** Rejected key exchanges allowed per client address per second (burst: four times as many); good keys are never refused for it. */
        exchangesPerAddressPerSecond: z.coerce.number().positive('must be a positive number').default(20),
        /** The bootstrap admin's API key (trellis_...), instead of a generated one; used on first start only. */
        adminKey: z.string().regex(API_KEY_PATTERN, 'must be an API key as governance issues them: trellis_<16 hex>_<43 base64url>').optional(),
      })
      .prefault({}),
    /** Default PostgreSQL URL; each service uses a database named `trellis_<service>` on that server. */
    databaseUrl: postgresUrl.optional(),
    nats: z
      .object({
        url: z.string().regex(/^(nats|tls):\/\//, 'must be a nats:// URL').default('nats://127.0.0.1:4222'),
        stream: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - and _').default('TRELLIS'),
        /** Prepended to every subject on the wire, so several installations can share one NATS. */
        subjectPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated tokens of letters, digits, - and _').optional(),
      })
      .prefault({}),
    /** The HTTP gateway: every RPC as JSON over HTTP, and the REST APIs built on it. */
    gateway: z
      .object({
        /** HTTP port; 0 picks a free one. */
        port: port.default(8080),
        /**
         * Where each service's gRPC server listens (`host:port`), keyed by service name. In
         * standalone the services of the same process are used unless listed here.
         */
        upstreams: z.record(z.string().regex(/^[a-z][a-z0-9]*$/, 'must be a service name'), hostPort).default({}),
        /** Largest request body a JSON route reads, in bytes; larger ones are answered 413. */
        maxBodyBytes: z.coerce.number().int().positive('must be a positive number of bytes').default(1_048_576),
      })
      .prefault({}),
    /**
     * Storage plugin instances by name (`default`, `team-a-s3`): the plugin's id and its config.
     * Services that store objects (tracking's artifacts) pick instances by these names; `default`
     * is storage-fs under the data directory unless configured here.
     */
    storage: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an instance name: lowercase letters, digits, . _ and -'),
        z.object({ plugin: z.string().min(1), config: z.unknown().default({}) }).strict(),
      )
      .default({}),
    /**
     * Governance's audit chain: how often its head is signed (a checkpoint), and by which KMS, so
     * that a chain rewritten in the database no longer matches a signature made with a key the
     * database does not hold.
     */
    audit: z
      .object({
        /** Sign the head once this many records were appended since the last checkpoint. */
        checkpointEveryRecords: z.coerce.number().int().min(1, 'must be a positive number of records').default(1000),
        /** Sign the head this often, in seconds, when records were appended since the last checkpoint. */
        checkpointEverySeconds: z.coerce.number().int().min(1, 'must be a positive number of seconds').default(60),
        /**
         * The KMS plugin instance that signs (its plugin must compute MACs): the plugin's id and
         * config. Default: kms-local with the key file `<dataDir>/keys/audit-checkpoint.key`,
         * written at first start when missing.
         */
        checkpointKms: z.object({ plugin: z.string().min(1), config: z.unknown().default({}) }).strict().optional(),
      })
      .prefault({}),
    /** Per-service sections, keyed by service name: the kit's keys, and the service's own (checked when it starts). */
    services: z.record(z.string(), serviceSectionSchema).default({}),
    /** npm packages of plugins to load. */
    plugins: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** The validated configuration. */
export type TrellisConfig = z.infer<typeof configSchema>;

/**
 * The environment variables the kit reads and the config key each sets; each service's section
 * adds `TRELLIS_<SERVICE>_<KEY>` for each of its keys (see serviceVariable), and
 * ENVIRONMENT_PREFIXES adds families of variables named after a key of their own.
 */
export const ENVIRONMENT: Record<string, string> = {
  TRELLIS_MODE: 'mode',
  TRELLIS_DATA_DIR: 'dataDir',
  TRELLIS_HOST: 'host',
  TRELLIS_LOG_LEVEL: 'log.level',
  TRELLIS_LOG_FORMAT: 'log.format',
  TRELLIS_OPS_PORT: 'opsPort',
  TRELLIS_AUTH_JWKS_URL: 'auth.jwksUrl',
  TRELLIS_AUTH_JWKS_FILE: 'auth.jwksFile',
  TRELLIS_AUTH_ISSUER: 'auth.issuer',
  TRELLIS_AUTH_AUDIENCE: 'auth.audience',
  TRELLIS_AUTH_TOKEN_TTL_SECONDS: 'auth.tokenTtlSeconds',
  TRELLIS_ADMIN_KEY: 'auth.adminKey',
  TRELLIS_AUTH_EXCHANGES_PER_KEY_PER_SECOND: 'auth.exchangesPerKeyPerSecond',
  TRELLIS_AUTH_EXCHANGES_PER_ADDRESS_PER_SECOND: 'auth.exchangesPerAddressPerSecond',
  TRELLIS_DATABASE_URL: 'databaseUrl',
  TRELLIS_NATS_URL: 'nats.url',
  TRELLIS_NATS_STREAM: 'nats.stream',
  TRELLIS_NATS_SUBJECT_PREFIX: 'nats.subjectPrefix',
  TRELLIS_PLUGINS: 'plugins',
  TRELLIS_AUDIT_CHECKPOINT_EVERY_RECORDS: 'audit.checkpointEveryRecords',
  TRELLIS_AUDIT_CHECKPOINT_EVERY_SECONDS: 'audit.checkpointEverySeconds',
  TRELLIS_GATEWAY_PORT: 'gateway.port',
  TRELLIS_GATEWAY_MAX_BODY_BYTES: 'gateway.maxBodyBytes',
};

/**
 * Families of variables: each variable that starts with a prefix sets the key under the path
 * named by the rest of its name, lowercased (`TRELLIS_GATEWAY_UPSTREAM_TRACKING` sets
 * `gateway.upstreams.tracking`).
 */
export const ENVIRONMENT_PREFIXES: Record<string, string> = {
  TRELLIS_GATEWAY_UPSTREAM_: 'gateway.upstreams',
};
