/** A Prometheus query of a panel, and how Grafana names each series it returns. */
export interface Query {
  expr: string;
  legend: string;
}

/** A chart: its queries and the unit of their values (Grafana's unit ids: reqps, s, percentunit, bytes, short). */
export interface Chart {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Draw the series stacked (parts of one whole, such as requests by outcome). */
  stacked?: boolean;
}

/** A row of the dashboard: a heading and up to three charts beside each other under it. */
export interface Row {
  title: string;
  charts: Chart[];
}

/** The datasource every panel queries: an input Grafana asks for when the dashboard is imported. */
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
const WIDTH = 24;
const CHART_HEIGHT = 8;

/** Grafana's dashboard JSON (schema version 39) of `rows`, ready to import. */
export function dashboard(uid: string, title: string, description: string, rows: readonly Row[]): Record<string, unknown> {
  const panels: Array<Record<string, unknown>> = [];
  let y = 0;
  for (const row of rows) {
    panels.push({ id: panels.length + 1, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: WIDTH, h: 1 }, panels: [] });
    y += 1;
    const width = WIDTH / row.charts.length;
    for (const [index, chart] of row.charts.entries()) panels.push(chartPanel(panels.length + 1, chart, { x: index * width, y, w: width, h: CHART_HEIGHT }));
    y += CHART_HEIGHT;
  }
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', description: 'The Prometheus that scrapes the Trellis pods', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.4.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
    ],
    uid,
    title,
    description,
    tags: ['trellis'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    templating: { list: [] },
    annotations: { list: [] },
    panels,
  };
}

function chartPanel(id: number, chart: Chart, gridPos: { x: number; y: number; w: number; h: number }): Record<string, unknown> {
  return {
    id,
    type: 'timeseries',
    title: chart.title,
    description: chart.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: {
      defaults: { unit: chart.unit, custom: { drawStyle: 'line', fillOpacity: chart.stacked ? 30 : 10, stacking: { mode: chart.stacked ? 'normal' : 'none', group: 'A' } } },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: chart.queries.map((query, index) => ({ refId: String.fromCharCode(65 + index), datasource: DATASOURCE, expr: query.expr, legendFormat: query.legend, range: true })),
  };
}
