import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS_DIR, renderDashboards } from './generate';
import { metricNames } from './promql';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const files = () => readdirSync(DASHBOARDS_DIR).filter((name) => name.endsWith('.json')).sort();
const dashboards = () => files().map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Body }));

describe('the Grafana dashboards (deploy/grafana)', () => {
  it('are what tools/deploy/grafana generates, with no file left over', () => {
    const fresh = renderDashboards();
    expect(files()).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) expect({ name, text: readFileSync(join(DASHBOARDS_DIR, name), 'utf8') }).toEqual({ name, text });
  });

  it('import with a Prometheus datasource input, each under a uid of its own', () => {
    const uids = dashboards().map(({ json }) => json.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, json } of dashboards()) {
      expect({ file, schemaVersion: json.schemaVersion, inputs: json.__inputs.map((input: Body) => `${input.name}:${input.pluginId}`) }).toEqual({ file, schemaVersion: 39, inputs: ['DS_PROMETHEUS:prometheus'] });
    }
  });

  it('lay panels out with ids of their own on a 24-column grid without overlaps, each chart querying the input datasource', () => {
    for (const { file, json } of dashboards()) {
      const panels = json.panels as Body[];
      expect({ file, ids: new Set(panels.map((panel) => panel.id)).size }).toEqual({ file, ids: panels.length });
      const cells = new Set<string>();
      for (const { id, gridPos, type, targets, datasource } of panels) {
        expect({ file, id, fits: gridPos.x >= 0 && gridPos.w > 0 && gridPos.h > 0 && gridPos.x + gridPos.w <= 24 }).toEqual({ file, id, fits: true });
        for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
          for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
            expect({ file, id, overlaps: cells.has(`${x},${y}`) }).toEqual({ file, id, overlaps: false });
            cells.add(`${x},${y}`);
          }
        }
        if (type === 'row') continue;
        expect({ file, id, datasource: datasource.uid, targets: targets.length > 0 }).toEqual({ file, id, datasource: '${DS_PROMETHEUS}', targets: true });
        for (const target of targets as Body[]) expect({ file, id, refId: target.refId, metrics: metricNames(target.expr).length > 0 }).toEqual({ file, id, refId: expect.stringMatching(/^[A-Z]$/), metrics: true });
      }
    }
  });
});

describe('metricNames', () => {
  it('finds the metrics of a query, not its functions, labels, ranges or grouping', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, grpc_service) (rate(grpc_server_handling_seconds_bucket{grpc_code!="OK"}[$__rate_interval]))) / sum(up)')).toEqual([
      'grpc_server_handling_seconds_bucket',
      'up',
    ]);
  });
});
