import { z } from 'zod';
import { ConfigError } from './config-error';

const port = z.coerce.number().int().min(0, 'must be a port number from 0 to 65535').max(65535, 'must be a port number from 0 to 65535');
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');
const hostPort = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port');
const secretReference = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, 'must be a secret reference, env:<VARIABLE> or file:/absolute/path, never the secret itself');

/** The keys the kit sets in every service's section, next to the service's own. */
export const kitSectionShape = {
  port: port.optional().describe("gRPC port of the service (0 picks a free port); default: the service's own (see its section)"),
  databaseUrl: postgresUrl
    .optional()
    .describe("that service's own PostgreSQL database (distributed mode), instead of `trellis_<name>` on `databaseUrl`"),
  address: hostPort
    .optional()
    .describe(
      '`host:port` of the gRPC server of a service that runs in another process, for services that call it: the registry calls tracking and governance, so its process refuses to start without `TRELLIS_TRACKING_ADDRESS` and `TRELLIS_GOVERNANCE_ADDRESS`',
    ),
  credential: secretReference
    .optional()
    .describe(
      "API key of the service's own service account, as a secret reference (`env:NAME` or `file:/path`), for services that run work as themselves (the registry's copies); `npm run service-key -- <service>` issues one. Standalone needs none: governance writes `<dataDir>/keys/<service>.key` at start. A distributed service that needs one refuses to start without it",
    ),
};

/** Names of the keys the kit owns in each `services.<name>` section. */
export const KIT_SECTION_KEYS: readonly string[] = Object.keys(kitSectionShape);

/**
 * One `services.<name>` section as the kit's schema reads it: the kit's keys checked, the
 * service's own kept as they are until the service starts and its schema checks them.
 */
export const serviceSectionSchema = z.looseObject(kitSectionShape);

/** The environment variable of key `key` of service `service`: `TRELLIS_<SERVICE>_<KEY>` in upper snake case. */
export function serviceVariable(service: string, key: string): string {
  return `TRELLIS_${service.toUpperCase()}_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/** The section key a `TRELLIS_<SERVICE>_<REST>` variable sets: `<REST>` in lowerCamelCase. */
export function sectionKeyOf(rest: string): string {
  return rest.toLowerCase().replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * Validates the section `services.<service>` against the service's schema (with the kit's keys
 * beside it; unknown keys refused) and returns the service's own values. Throws a ConfigError
 * naming each bad key and its variable.
 */
export function parseServiceSection<Schema extends z.ZodObject>(service: string, schema: Schema | undefined, section: unknown): z.output<Schema> {
  const own = schema ?? z.object({});
  const parsed = own.extend(kitSectionShape).strict().safeParse(section ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.flatMap((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.join('.')];
      return keys.map((key) => {
        const top = key.split('.')[0];
        const where = top ? `services.${service}.${key} (${serviceVariable(service, top)})` : `services.${service}`;
        return `  ${where}: ${issue.code === 'unrecognized_keys' ? `not a setting of ${service}` : issue.message}`;
      });
    });
    throw new ConfigError(`invalid Trellis configuration:\n${lines.join('\n')}`);
  }
  const values = parsed.data as Record<string, unknown>;
  return Object.fromEntries(Object.keys(own.shape).map((key) => [key, values[key]])) as z.output<Schema>;
}
