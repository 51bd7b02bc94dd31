import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error';
import { configSchema, ENVIRONMENT, ENVIRONMENT_PREFIXES, type TrellisConfig } from './config.schema';
import { movedSettingLines } from './moved-settings';
import { sectionKeyOf } from './service-section';

export { ConfigError } from './config-error';

/** Where to read configuration from; both default to the process's own. */
export interface ConfigSources {
  /** Path of the YAML file; defaults to `TRELLIS_CONFIG`, else `./trellis.yaml` when it exists. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Service names whose `TRELLIS_<SERVICE>_<KEY>` variables set keys of their sections. */
  services?: readonly string[];
}

/**
 * Reads, overlays and validates the kit's configuration, or throws ConfigError. Each service's
 * own keys are read into its section `services.<name>` and checked when the service starts.
 */
export function loadConfig(sources: ConfigSources = {}): TrellisConfig {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.TRELLIS_CONFIG ?? (existsSync('trellis.yaml') ? 'trellis.yaml' : undefined);
  const raw = file ? readYaml(file) : {};
  const moved = movedSettingLines(raw, env);
  if (moved.length > 0) throw new ConfigError(`invalid Trellis configuration:\n${moved.join('\n')}`);
  const origin = new Map<string, string>();

  for (const [variable, key] of Object.entries(environmentFor(sources.services ?? [], env))) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    setPath(raw, key, key === 'plugins' ? value.split(',').map((name) => name.trim()) : value);
    origin.set(key, variable);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describe(parsed.error, origin, file));
  return parsed.data;
}

function environmentFor(services: readonly string[], env: Record<string, string | undefined>): Record<string, string> {
  const variables = { ...ENVIRONMENT };
  const families = Object.keys(ENVIRONMENT_PREFIXES);
  for (const service of services) {
    const prefix = `TRELLIS_${service.toUpperCase()}_`;
    for (const variable of Object.keys(env)) {
      const rest = variable.slice(prefix.length);
      // A kit variable keeps its meaning even when a service's name would shadow it.
      if (!variable.startsWith(prefix) || !/^[A-Z][A-Z0-9_]*$/.test(rest) || families.some((family) => variable.startsWith(family))) continue;
      variables[variable] ??= `services.${service}.${sectionKeyOf(rest)}`;
    }
  }
  // Where other services answer is set for services this process does not host.
  for (const variable of Object.keys(env)) {
    const other = /^TRELLIS_([A-Z][A-Z0-9]*)_ADDRESS$/.exec(variable)?.[1];
    if (other) variables[variable] ??= `services.${other.toLowerCase()}.address`;
  }
  for (const [prefix, parent] of Object.entries(ENVIRONMENT_PREFIXES)) {
    for (const variable of Object.keys(env)) {
      if (variable.startsWith(prefix) && variable.length > prefix.length) {
        variables[variable] = `${parent}.${variable.slice(prefix.length).toLowerCase()}`;
      }
    }
  }
  return variables;
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = parse(text) ?? {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('the top level must be a mapping');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(error as Error).message}`);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

function describe(error: z.ZodError, origin: Map<string, string>, file: string | undefined): string {
  const lines = error.issues.map((issue) => {
    const key = issue.path.join('.') || '(top level)';
    const source = origin.get(key) ?? (file ? `in ${file}` : 'default');
    const where = origin.has(key) ? `from ${source}` : source;
    return `  ${key} (${where}): ${issue.message}`;
  });
  return `invalid Trellis configuration:\n${lines.join('\n')}`;
}
