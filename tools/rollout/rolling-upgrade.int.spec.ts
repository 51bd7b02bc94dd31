import { eventually, startTcpProxy, type TcpProxy } from '@trellis/testing';
import { findLost, startLoad, type Load } from '../chaos/load';
import { startDistributedPlatform, SERVICES, type DistributedPlatform, type Listening, type Program } from '../e2e/distributed-platform';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildPreviousRelease, type PreviousRelease } from '../skew/previous-release';

/** One cheap read per program through the gateway, which a user would see fail if that program were down. */
const READS: Record<Program | 'inference', { path: string; body?: (projectId: string) => object }> = {
  governance: { path: '/v1/trellis.governance.v1.IdentityService/ListProjects', body: () => ({}) },
  tracking: { path: '/api/2.0/mlflow/experiments/search?max_results=1' },
  registry: { path: '/api/2.0/mlflow/registered-models/search?max_results=1' },
  data: { path: '/v1/trellis.data.v1.DataService/ListDatasets', body: (projectId) => ({ projectId }) },
  compute: { path: '/v1/trellis.compute.v1.ClusterService/ListClusters', body: () => ({}) },
  serving: { path: '/v1/trellis.serving.v1.EndpointService/ListEndpoints', body: (projectId) => ({ projectId }) },
  monitoring: { path: '/v1/trellis.monitoring.v1.MonitoringService/ListMonitors', body: (projectId) => ({ projectId }) },
  inference: { path: '/v2/health/ready' },
  gateway: { path: '/healthz' },
};

/**
 * How a request fails when the server closes its keep-alive connection as the request goes out:
 * what releases before `drainable` (libs/platform/src/ops/http-drain.ts) did to every idle
 * connection of their HTTP servers (the gateway's, serving's REST API) when they stopped.
 */
const CUT_KEEP_ALIVE = /socket hang up|other side closed|UND_ERR_SOCKET/;

interface Probe {
  /** Reads answered, and those not answered 200, each with what came back. */
  answered: number;
  failures: string[];
}

/**
 * A staged rollout, as docs/operations.md ("Staged rollout") tells an operator to do it on
 * Kubernetes, on one host: every program runs the previous release; then, one program at a time,
 * a process of this checkout starts beside the old one (a rolling update's surge replica), joins
 * the program's endpoints once ready, the old one leaves them (preStop) and drains (SIGTERM).
 * Each program's clients reach it through a TCP proxy in the place of its Kubernetes Service; the
 * load writer and a reader per program run all along. No request may fail (but those an old HTTP
 * server without `drainable` cut as it stops) and no acknowledged write may be lost: an upgrade
 * with no downtime.
 */
describe('a staged rollout from the previous release to this checkout, one program at a time', () => {
  let release: PreviousRelease;
  let platform: DistributedPlatform;
  /**
   * Each program's Services, by name: `<program>` its gRPC port (the gateway: its HTTP port),
   * `governance-ops` the key set's, `inference` serving's REST API.
   */
  const services = new Map<string, TcpProxy>();
  /** The process each program runs as now: its name for `stop`, and where it listens. */
  const current = new Map<Program, { name: string } & Listening>();
  let load: Load;
  let projectId: string;
  let reading = true;
  const probes = new Map<string, Probe>();
  let readers: Promise<void>[] = [];

  const gateway = () => services.get('gateway')!.url('http');
  const at = (service: string) => `127.0.0.1:${services.get(service)!.port}`;

  /** Where each Service of `program` sends connections, for a process of it listening at `listening`. */
  function endpointsOf(program: Program, listening: Listening): Array<[service: string, target: string]> {
    if (program === 'gateway') return [['gateway', listening.http!]];
    const endpoints: Array<[string, string]> = [[program, listening.grpc!]];
    if (program === 'governance') endpoints.push(['governance-ops', listening.ops]);
    if (program === 'serving') endpoints.push(['inference', listening.http!]);
    return endpoints;
  }

  /** The settings that point a process at the other programs' Services rather than at their processes. */
  function throughServices(program: Program): Record<string, string> {
    const env: Record<string, string> = { TRELLIS_AUTH_JWKS_URL: `http://${at('governance-ops')}/.well-known/jwks.json` };
    for (const service of SERVICES) env[`TRELLIS_${service.toUpperCase()}_ADDRESS`] = at(service);
    if (program === 'gateway') {
      for (const service of SERVICES) env[`TRELLIS_GATEWAY_UPSTREAM_${service.toUpperCase()}`] = at(service);
      env.TRELLIS_GATEWAY_UPSTREAM_INFERENCE = at('inference');
    }
    return env;
  }

  async function read(program: Program | 'inference'): Promise<string | undefined> {
    const { path, body } = READS[program];
    try {
      const response = await fetch(`${gateway()}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${platform.adminKey}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body(projectId)) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      return response.status === 200 ? undefined : `${response.status} ${text.slice(0, 200)}`;
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`;
    }
  }

  /** Reads `program` back to back until the rollout ends, counting what failed. */
  async function keepReading(program: Program | 'inference'): Promise<void> {
    const probe: Probe = { answered: 0, failures: [] };
    probes.set(program, probe);
    while (reading) {
      const failure = await read(program);
      probe.answered++;
      if (failure) probe.failures.push(failure);
    }
  }

  beforeAll(async () => {
    release = await buildPreviousRelease();
    const programs = [...SERVICES, 'gateway'] as Program[];
    platform = await startDistributedPlatform({ from: Object.fromEntries(programs.map((program) => [program, release.checkout])) });
    for (const program of programs) {
      current.set(program, { name: program, ...platform.processes[program] });
      for (const [service, target] of endpointsOf(program, platform.processes[program])) services.set(service, await startTcpProxy(target));
    }
    // Every process, still the previous release, now reaches the others through their Services.
    for (const program of programs) {
      await platform.stop(program);
      await platform.start(program, { env: throughServices(program) });
    }

    const created = await fetch(`${gateway()}/v1/trellis.governance.v1.IdentityService/CreateProject`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rollout-readers' }),
    });
    expect(created.status).toBe(200);
    projectId = ((await created.json()) as { project: { id: string } }).project.id;
    load = await startLoad({ gateway: gateway(), adminKey: platform.adminKey });
    readers = (Object.keys(READS) as Array<Program | 'inference'>).map((program) => keepReading(program));
  }, 900_000);

  afterAll(async () => {
    reading = false;
    await Promise.all(readers);
    await load?.stop();
    for (const proxy of services.values()) await proxy.close();
    await platform?.close();
  }, 120_000);

  /** Resolves once the load has acknowledged `count` more writes: the platform is serving meanwhile. */
  async function writesGoOn(count = 3): Promise<void> {
    const from = load.progress().acknowledged.length;
    await eventually(() => expect(load.progress().acknowledged.length).toBeGreaterThanOrEqual(from + count), { timeoutMs: 60_000 });
  }

  /** Every failure so far, of the readers and the writer, as one list. */
  function failures(): string[] {
    return [...[...probes].flatMap(([name, probe]) => probe.failures.map((failure) => `read ${name}: ${failure}`)), ...load.progress().failed.map((failed) => `write ${failed.kind}: ${failed.status}`)];
  }

  /**
   * One program's rolling update, to a process of `from` (null: this checkout): surge it, add it to
   * the endpoints, take the old one out (preStop), drain it. Resolves with the requests that failed meanwhile.
   */
  async function roll(program: Program, from: string | null): Promise<string[]> {
    const before = failures();
    const old = current.get(program)!;
    const surge = await platform.surge(program, { from, env: throughServices(program) });
    const [oldEndpoints, newEndpoints] = [endpointsOf(program, old), endpointsOf(program, surge.listening)];
    for (const [index, [service, target]] of newEndpoints.entries()) services.get(service)!.route([oldEndpoints[index][1], target]);
    await writesGoOn();
    for (const [service, target] of newEndpoints) services.get(service)!.route([target]);
    await platform.stop(old.name, 'SIGTERM');
    current.set(program, { name: surge.name, ...surge.listening });
    await writesGoOn();
    return failures().filter((failure) => !before.includes(failure));
  }

  for (const program of [...SERVICES, 'gateway'] as Program[]) {
    it(`upgrades ${program} from the previous release with no failed request`, async () => {
      const failed = await roll(program, null);
      const servesHttp = program === 'serving' || program === 'gateway';
      if (servesHttp && !existsSync(join(release.checkout, 'libs/platform/src/ops/http-drain.ts'))) {
        // The old process's HTTP server cut its idle keep-alive connections as it stopped; the
        // next spec replaces this program again, this checkout's drain against itself, strictly.
        for (const failure of failed) expect(failure).toMatch(CUT_KEEP_ALIVE);
        if (failed.length) process.stdout.write(`[rollout] ${program} ${release.version} cut ${failed.length} keep-alive request(s) as it stopped\n`);
      } else {
        expect(failed).toEqual([]);
      }
    }, 180_000);
  }

  it('replaces serving and the gateway again, this checkout draining its HTTP connections, with no failed request', async () => {
    expect(await roll('serving', null)).toEqual([]);
    expect(await roll('gateway', null)).toEqual([]);
  }, 360_000);

  it('lost no acknowledged write through the whole rollout', async () => {
    reading = false;
    await Promise.all(readers);
    const report = await load.stop();
    expect(report.acknowledged.length).toBeGreaterThan(0);
    expect(await findLost({ gateway: gateway(), adminKey: platform.adminKey }, report)).toEqual([]);
    const reads = [...probes].map(([name, probe]) => `${name} ${probe.answered}`).join(', ');
    process.stdout.write(`[rollout] ${report.acknowledged.length} writes acknowledged, ${report.failed.length} failed, 0 lost; reads answered: ${reads}\n`);
  }, 120_000);
});
