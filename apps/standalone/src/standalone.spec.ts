import 'reflect-metadata';
import { assertEveryMethodGuarded, callEveryMethodWithoutToken, grpcHandlersOf, runProcess, type RunningProcess } from '@trellis/platform';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES } from './services';

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
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_AUTH_JWKS_FILE: join(dir, 'jwks.json'),
    });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services: SERVICES, print: (line) => printed.push(line) });
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints where the ops endpoints and every service listen', () => {
    expect(printed[0]).toBe('Trellis (standalone) is running.');
    expect(printed).toContain(`  ops      ${running.opsAddress}  (/healthz /readyz /metrics)`);
    for (const service of running.services) expect(printed).toContain(`  ${service.name.padEnd(8)} grpc://${service.grpcAddress}`);
    expect(running.services.map((service) => service.name)).toEqual(SERVICES.map((service) => service.name));
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
