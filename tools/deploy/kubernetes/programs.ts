import 'reflect-metadata';
import { computeService } from '@trellis/compute';
import { dataService } from '@trellis/data';
import { EXPOSED_SERVICES } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { monitoringService } from '@trellis/monitoring';
import { configSchema, ENVIRONMENT, ENVIRONMENT_PREFIXES, serviceVariable, type ServiceDefinition } from '@trellis/platform';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { trackingService } from '@trellis/tracking';

/** The services of distributed mode, one program each (apps/<name>), in start order. */
export const SERVICES: readonly ServiceDefinition[] = [governanceService, trackingService, registryService, dataService, computeService, servingService, monitoringService];

/** A port of one program, by the name its container and Service give it. */
export type PortName = 'grpc' | 'http' | 'ops';

/** A setting that tells a program where another one listens: `host:port`, or a URL when `path` is given. */
export interface Address {
  variable: string;
  program: string;
  port: PortName;
  path?: string;
}

/** What the manifests need to know of one program of distributed mode. */
export interface Program {
  name: string;
  ports: Partial<Record<PortName, number>>;
  addresses: Address[];
  /** TRELLIS_<SERVICE>_CREDENTIAL, for a service that acts as itself (its definition's `identity`). */
  credential?: string;
  /** Whether it has a database (every service; the gateway has none). */
  database: boolean;
}

/** The environment variable of a kit key (`nats.url`: TRELLIS_NATS_URL), from the kit's own table. */
export function kitVariable(key: string): string {
  const variable = Object.keys(ENVIRONMENT).find((candidate) => ENVIRONMENT[candidate] === key);
  if (!variable) throw new Error(`the kit has no environment variable for ${key}`);
  return variable;
}

const GATEWAY_UPSTREAM = Object.keys(ENVIRONMENT_PREFIXES).find((prefix) => ENVIRONMENT_PREFIXES[prefix] === 'gateway.upstreams');
/** The gateway's upstream name of serving's Open Inference Protocol REST API (docs/configuration.md, gateway.upstreams). */
const INFERENCE_UPSTREAM = 'inference';

/**
 * Every program of distributed mode, from the services' definitions (their ports, whom they call,
 * whether they act as themselves) and the kit's config schema (the ops and gateway ports), so the
 * manifests follow a service that starts calling another one.
 */
export function programs(): Program[] {
  const kit = configSchema.parse({});
  const servingHttpPort = (servingService.config?.parse({}) as { httpPort: number } | undefined)?.httpPort;
  if (!GATEWAY_UPSTREAM || servingHttpPort === undefined) throw new Error("the kit no longer names the gateway's upstreams' variables, or serving its httpPort: update tools/deploy/kubernetes/programs.ts");
  const jwks: Address = { variable: kitVariable('auth.jwksUrl'), program: 'governance', port: 'ops', path: '/.well-known/jwks.json' };
  const services = SERVICES.map((service): Program => {
    // A service that acts as itself asks governance for its tokens, as the kit's start checks.
    const calls = [...new Set([...(service.calls ?? []), ...(service.identity ? ['governance'] : [])])];
    const addresses = calls.map((other): Address => ({ variable: serviceVariable(other, 'address'), program: other, port: 'grpc' }));
    if (service !== governanceService) addresses.unshift(jwks);
    // Jobs log to their runs through the gateway, at the URL they reach it by.
    if (service === computeService) addresses.push({ variable: serviceVariable('compute', 'trackingUri'), program: 'gateway', port: 'http', path: '' });
    return {
      name: service.name,
      ports: { grpc: service.defaultPort, ops: kit.opsPort, ...(service === servingService ? { http: servingHttpPort } : {}) },
      addresses,
      credential: service.identity ? serviceVariable(service.name, 'credential') : undefined,
      database: true,
    };
  });
  const upstream = (name: string, port: PortName): Address => ({ variable: `${GATEWAY_UPSTREAM}${name.toUpperCase()}`, program: name === INFERENCE_UPSTREAM ? 'serving' : name, port });
  const gateway: Program = {
    name: 'gateway',
    ports: { http: kit.gateway.port, ops: kit.opsPort },
    addresses: [...Object.keys(EXPOSED_SERVICES).map((name) => upstream(name, 'grpc')), upstream(INFERENCE_UPSTREAM, 'http')],
    database: false,
  };
  return [...services, gateway];
}
