import 'reflect-metadata';
import { gatewayEdge } from '@trellis/gateway';
import { runProcess, type RunningProcess } from '@trellis/platform';
import driftStats from '@trellis/plugin-drift-stats';
import kmsLocal from '@trellis/plugin-kms-local';
import storageFs from '@trellis/plugin-storage-fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES } from '../kubernetes/programs';
import { DASHBOARDS } from './dashboards';
import { metricNames } from './promql';

/** The series a histogram family `name` exports besides its own name. */
const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/**
 * Every metric a dashboard charts is one a Trellis process exports: the platform with every
 * service and the gateway in this process (as standalone runs), its /metrics scraped.
 */
describe('the Grafana dashboards against a running platform', () => {
  const savedEnv = { ...process.env };
  let dataDir: string;
  let running: RunningProcess;
  /** Metric family -> its type, from the scrape's `# TYPE` lines. */
  const families = new Map<string, string>();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trellis-dashboards-'));
    Object.assign(process.env, { TRELLIS_DATA_DIR: dataDir, TRELLIS_OPS_PORT: '0', TRELLIS_SERVING_HTTP_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_LOG_LEVEL: 'silent' });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services: SERVICES, edges: [gatewayEdge], plugins: [storageFs, kmsLocal, driftStats], print: () => undefined });
    const scrape = await (await fetch(`${running.opsAddress}/metrics`)).text();
    for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(name, type);
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    process.env = savedEnv;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The family a charted series belongs to: itself, or the histogram whose _bucket/_sum/_count it is. */
  function family(series: string): string | undefined {
    if (families.has(series)) return `${series} ${families.get(series)}`;
    const suffix = HISTOGRAM_SERIES.find((candidate) => series.endsWith(candidate));
    const histogram = suffix && series.slice(0, -suffix.length);
    return histogram && families.get(histogram) === 'histogram' ? `${histogram} histogram` : undefined;
  }

  it('chart only metrics the platform exports, histograms through their _bucket, _sum and _count', () => {
    expect(families.get('grpc_server_handling_seconds')).toBe('histogram');
    let charted = 0;
    for (const [file, json] of DASHBOARDS) {
      for (const panel of json.panels as Array<{ title: string; targets?: Array<{ expr: string }> }>) {
        for (const metric of (panel.targets ?? []).flatMap((target) => metricNames(target.expr))) {
          charted++;
          expect({ file, panel: panel.title, metric, exported: family(metric) }).toEqual({ file, panel: panel.title, metric, exported: expect.any(String) });
        }
      }
    }
    expect(charted).toBeGreaterThan(20);
  });

  it("would notice a metric the platform does not export, and a histogram's series on a counter", () => {
    expect(family('trellis_no_such_metric')).toBeUndefined();
    expect(family('grpc_server_handled_total_bucket')).toBeUndefined();
    expect(family('grpc_server_handling_seconds_bucket')).toBe('grpc_server_handling_seconds histogram');
  });
});
