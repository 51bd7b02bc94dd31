import 'reflect-metadata';
import { assertEveryMethodGuarded, callEveryMethodWithoutToken, createGrpcClient, grpcHandlersOf, runProcess, type RunningProcess } from '@trellis/platform';
import { IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS, EDGES, SERVICES } from './services';

describe('the standalone process', () => {
  let dir: string;
  let running: RunningProcess;
  const printed: string[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-standalone-'));
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_GATEWAY_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
    });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((text: string) => {
      printed.push(String(text));
      return true;
    }) as typeof process.stdout.write;
    try {
      running = await runProcess({ mode: 'standalone', services: SERVICES, edges: EDGES, plugins: BUILT_IN_PLUGINS, print: (line) => printed.push(line) });
    } finally {
      process.stdout.write = write;
    }
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints where the ops endpoints and every service listen', () => {
    expect(printed).toContain('Trellis (standalone) is running.');
    expect(printed).toContain(`  ${'ops'.padEnd(12)} ${running.opsAddress}  (/healthz /readyz /metrics)`);
    for (const service of running.services) expect(printed).toContain(`  ${service.name.padEnd(12)} grpc://${service.grpcAddress}`);
    const gateway = running.edges.find((edge) => edge.name === 'gateway')!.address;
    expect(printed).toContain(`  ${'web UI'.padEnd(12)} ${gateway}/  (sign in with an API key; \`trellis login --url ${gateway}\` for the CLI)`);
    expect(running.services.map((service) => service.name)).toEqual(SERVICES.map((service) => service.name));
  });

  it('prints the admin key once, and it works against every service through governance\'s key set', async () => {
    const apiKey = /trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/.exec(printed.join(''))![0];
    const governance = running.services.find((service) => service.name === 'governance')!;
    const { token } = await createGrpcClient(TokenServiceDesc, governance.grpcAddress).exchangeApiKey({ apiKey });
    const projects = await createGrpcClient(IdentityServiceDesc, governance.grpcAddress, { token }).listProjects({});
    expect(projects.projects.map((project) => project.name)).toEqual(['default']);
  });

  it('serves every RPC over HTTP through the gateway, calling the services of the process', async () => {
    const gateway = running.edges.find((edge) => edge.name === 'gateway')!;
    expect(printed).toContain(`  ${'gateway'.padEnd(12)} ${gateway.address}`);
    const apiKey = /trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/.exec(printed.join(''))![0];
    const response = await fetch(`${gateway.address}/v1/${IdentityServiceDesc.typeName}/ListProjects`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ projects: [{ name: 'default' }] });
  });

  it('is ready once every service is up', async () => {
    const ready = await fetch(`${running.opsAddress}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('declares a permission on, and refuses anonymous calls to, every non-public method of every registered service', async () => {
    for (const service of running.services) {
      const definition = SERVICES.find((candidate) => candidate.name === service.name)!;
      expect(() => assertEveryMethodGuarded(definition.module, definition.grpcServices)).not.toThrow();
      const handlers = grpcHandlersOf(definition.module, definition.grpcServices);
      for (const result of await callEveryMethodWithoutToken(definition.grpcServices, service.grpcAddress)) {
        const [serviceName, method] = result.method.split('/');
        if (handlers.get(`${serviceName.split('.').pop()}/${method}`)?.public) continue;
        expect(result).toMatchObject({ code: 16 });
      }
    }
  });

  it('refuses to run when the config asks for distributed mode', async () => {
    process.env.TRELLIS_MODE = 'distributed';
    await expect(runProcess({ mode: 'standalone', services: SERVICES, print: () => undefined })).rejects.toThrow(
      'mode is "distributed" but this program runs standalone mode; set mode (TRELLIS_MODE) to standalone',
    );
    delete process.env.TRELLIS_MODE;
  });
});
