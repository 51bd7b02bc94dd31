import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS } from '../ops/logger';
import { serviceSectionSchema } from './service-section';

const port = z.coerce.number().int().min(0, 'must be a port number from 0 to 65535').max(65535, 'must be a port number from 0 to 65535');
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');
const hostPort = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port');

/**
 * A section of named plugin instances of one kind: `{ <name>: { plugin, config } }`. Secret fields
 * of `config` (the plugin marks them with `secret()`) hold references, `env:NAME` or `file:/path`.
 */
function instanceSection(kind: string) {
  return z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be an instance name: lowercase letters, digits, . _ and -'),
      z
        .object({
          plugin: z.string().min(1).describe(`the id of a loaded ${kind} plugin`),
          config: z.unknown().default({}).describe("the instance's settings, checked against the plugin's config schema"),
        })
        .strict(),
    )
    .default({});
}

/**
 * The kit's configuration of a Trellis process: `trellis.yaml` (or the file named by
 * `TRELLIS_CONFIG`) overlaid with `TRELLIS_*` environment variables (see ENVIRONMENT). Each
 * service's own settings are in its section `services.<name>`, checked by the service's schema
 * when it starts. docs/configuration.md is generated from the descriptions here.
 */
export const configSchema = z
  .object({
    mode: z
      .enum(['standalone', 'distributed'])
      .default('standalone')
      .describe('`standalone`: every service in one process on SQLite; `distributed`: one service per process on PostgreSQL and NATS JetStream'),
    dataDir: z
      .string()
      .min(1)
      .default('./.trellis')
      .describe(
        "where files go: standalone's SQLite databases, and in both modes tracking's artifacts and the registry's model copies (the `default` storage instance) and plugin data; a relative path is taken from the directory the process starts in, and the summary prints it in full. In distributed mode give tracking and the registry the same absolute path, or a shared storage plugin",
      ),
    host: z.string().min(1).default('127.0.0.1').describe('address the gRPC and ops servers bind to'),
    log: z
      .object({
        level: z.enum(LOG_LEVELS).default('info').describe('how much is logged (pino levels, most severe first)'),
        format: z
          .enum(LOG_FORMATS)
          .default('auto')
          .describe('`json`: one JSON object per line (for log collectors); `pretty`: one readable line per entry; `auto`: `pretty` when stdout is a terminal, `json` otherwise'),
      })
      .prefault({}),
    opsPort: port
      .default(9464)
      .describe(
        'HTTP port of `/healthz`, `/readyz`, `/metrics` (0 picks a free port); every process has its own, so processes on one host need different ones. Governance also serves its key set here, at `/.well-known/jwks.json`',
      ),
    auth: z
      .object({
        jwksUrl: z
          .url()
          .optional()
          .describe("governance's JSON Web Key Set URL (`http://<governance ops address>/.well-known/jwks.json`); required in distributed mode for every service but governance")
          .meta({ defaultText: "this process's `/.well-known/jwks.json`" }),
        jwksFile: z.string().min(1).optional().describe('a JSON Web Key Set file instead (tests, air-gapped installs)'),
        issuer: z.string().min(1).default('trellis-governance').describe('required `iss` of tokens'),
        audience: z.string().min(1).default('trellis').describe('required `aud` of tokens'),
        tokenTtlSeconds: z.coerce
          .number()
          .int()
          .min(30, 'must be at least 30 seconds')
          .max(86_400, 'must be at most a day')
          .default(300)
          .describe('lifetime of tokens governance issues; a changed role binding takes effect within it'),
      })
      .prefault({}),
    databaseUrl: postgresUrl
      .optional()
      .describe(
        'PostgreSQL server for distributed mode (the database named in the URL is not used); each service uses the database `trellis_<service>` on it, which it creates at first start if it is missing (the role needs `CREATEDB`, or create the databases beforehand)',
      ),
    nats: z
      .object({
        url: z
          .string()
          .regex(/^(nats|tls):\/\//, 'must be a nats:// URL')
          .default('nats://127.0.0.1:4222')
          .describe('NATS server with JetStream enabled (distributed mode; every process, the gateway too: it follows revocations)'),
        stream: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - and _').default('TRELLIS').describe('JetStream stream holding `trellis.>` events'),
        subjectPrefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated tokens of letters, digits, - and _')
          .optional()
          .describe('prepended to every subject on the wire, so installations (or test runs) can share one NATS'),
      })
      .prefault({}),
    gateway: z
      .object({
        port: port.default(8080).describe('HTTP port of the gateway (0 picks a free port); it also answers `/healthz` and `/readyz` there'),
        upstreams: z
          .record(z.string().regex(/^[a-z][a-z0-9]*$/, 'must be a service name'), hostPort)
          .default({})
          .describe(
            '`host:port` of the gRPC server of service `<name>` (`TRELLIS_GATEWAY_UPSTREAM_GOVERNANCE`, ...), and, under the name `inference`, of the serving service\'s Open Inference Protocol REST API (`services.serving.httpPort`), where the gateway forwards `/v2/...`. In distributed mode the gateway refuses to start without any (governance\'s is needed for API keys) or with a name no service has; in standalone one overrides the in-process service. `/readyz` fails while an upstream does not answer its health check (gRPC health; `/v2/health/live` for `inference`)',
          )
          .meta({ defaultText: "the process's own services" }),
        maxBodyBytes: z.coerce
          .number()
          .int()
          .positive('must be a positive number of bytes')
          .default(1_048_576)
          .describe('largest JSON request body the gateway reads; larger ones are answered 413 (an NDJSON body: the largest line)'),
        webRoot: z
          .string()
          .max(4096)
          .default('')
          .describe('directory of the built web UI the gateway serves at `/` (apps/web\'s `dist/`, made by `npm run build`)')
          .meta({ defaultText: "the `dist/` of the @trellis/web package installed beside the gateway's" }),
      })
      .prefault({}),
    storage: instanceSection('storage')
      .describe(
        "storage plugin instances: `{ <name>: { plugin: <plugin id>, config: {...} } }`; services that store objects (tracking's artifacts, the registry's model copies) pick instances by these names: a project's chosen instance (`ArtifactService/SetArtifactStore` or `PluginInstanceService/SetProjectInstance`), `default` until one is chosen",
      )
      .meta({ defaultText: '`default`: storage-fs under `<dataDir>/artifacts` (when storage-fs is built in)' }),
    compute: instanceSection('compute').describe('compute plugin instances (GPU clusters, job queues), same shape as `storage`'),
    drift: instanceSection('drift').describe('drift detector instances, same shape as `storage`'),
    runtime: instanceSection('runtime').describe('model runtime instances, same shape as `storage`'),
    kms: instanceSection('kms')
      .describe('KMS instances (envelope encryption, secrets given through the API), same shape as `storage`')
      .meta({ defaultText: '`default`: kms-local with the key file `<dataDir>/keys/kms-default.key` (when kms-local is built in)' }),
    notifier: instanceSection('notifier').describe('notifier instances (alert delivery), same shape as `storage`'),
    services: z
      .record(z.string(), serviceSectionSchema)
      .default({})
      .describe("each service's section: the kit's keys below, and the service's own (see the service's table)"),
    plugins: z
      .array(z.string().min(1))
      .default([])
      .describe('npm packages of plugins to load (storage-fs, storage-s3 and kms-local are built into `apps/standalone`; see each program for its own), each resolved from `pluginsDir` first, then from the working directory; a path to a package folder is taken from the working directory'),
    pluginsDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'a directory of plugin packages, outside the repository: every package directly in it or in its `node_modules` (`npm install --prefix <pluginsDir> <package>`) whose package.json has `"trellis": { "kind": ... }` is loaded at start, and one that fails to load stops the start; a relative path is taken from the working directory (see docs/plugins.md)',
      )
      .meta({ defaultText: 'none: only built-in plugins and those in `plugins`' }),
  })
  .strict();

/** The validated configuration. */
export type TrellisConfig = z.infer<typeof configSchema>;

/**
 * The environment variables of the kit's keys: each is `TRELLIS_` and the key's path in upper
 * snake case. Each service's keys add `TRELLIS_<SERVICE>_<KEY>` (see serviceVariable), and
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
  TRELLIS_DATABASE_URL: 'databaseUrl',
  TRELLIS_NATS_URL: 'nats.url',
  TRELLIS_NATS_STREAM: 'nats.stream',
  TRELLIS_NATS_SUBJECT_PREFIX: 'nats.subjectPrefix',
  TRELLIS_PLUGINS: 'plugins',
  TRELLIS_PLUGINS_DIR: 'pluginsDir',
  TRELLIS_GATEWAY_PORT: 'gateway.port',
  TRELLIS_GATEWAY_MAX_BODY_BYTES: 'gateway.maxBodyBytes',
  TRELLIS_GATEWAY_WEB_ROOT: 'gateway.webRoot',
};

/**
 * Families of variables: each variable that starts with a prefix sets the key under the path
 * named by the rest of its name, lowercased (`TRELLIS_GATEWAY_UPSTREAM_TRACKING` sets
 * `gateway.upstreams.tracking`).
 */
export const ENVIRONMENT_PREFIXES: Record<string, string> = {
  TRELLIS_GATEWAY_UPSTREAM_: 'gateway.upstreams',
};
