import { GatewayRequestError, type GatewayClient } from '@trellis/client';
import type { GetMonitorResponseJson, ListMonitorsResponseJson, ListWindowResultsResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { MonitorJson, WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../exit-codes';

/** Every monitor of a project, in name order. */
export async function listMonitors(client: GatewayClient, projectId: string): Promise<MonitorJson[]> {
  const monitors: MonitorJson[] = [];
  let pageToken = '';
  do {
    const page = await client.call<ListMonitorsResponseJson>('trellis.monitoring.v1.MonitoringService/ListMonitors', { projectId, pageSize: 1000, pageToken });
    monitors.push(...(page.monitors ?? []));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return monitors;
}

/**
 * The monitor `ref` names: its id, else its name or its endpoint's (or dataset's) name in the
 * project in use. A name several monitors watch is refused, listing them, so a script never acts
 * on the wrong one.
 */
export async function findMonitor(ctx: CliContext, ref: string): Promise<MonitorJson> {
  const client = ctx.client();
  if (/^[0-9a-f-]{36}$/i.test(ref)) {
    try {
      const { monitor } = await client.call<GetMonitorResponseJson>('trellis.monitoring.v1.MonitoringService/GetMonitor', { monitorId: ref });
      if (monitor) return monitor;
    } catch (error) {
      if (!(error instanceof GatewayRequestError && error.status === 'NOT_FOUND')) throw error;
    }
  }
  const monitors = await listMonitors(client, await ctx.projectId());
  const byName = monitors.find((monitor) => monitor.name === ref);
  if (byName) return byName;
  const watching = monitors.filter((monitor) => monitor.endpoint?.endpointName === ref || monitor.dataset?.datasetName === ref);
  if (watching.length === 1) return watching[0];
  const shown = ref.slice(0, 64);
  if (watching.length > 1) throw new CliError(`${watching.length} monitors watch "${shown}" (${watching.map((monitor) => monitor.name).join(', ')}): name one`, EXIT.usage);
  throw new CliError(`no monitor "${shown}" (an id, a monitor's name, or the endpoint or dataset it watches) in this project: \`trellis monitors list\` shows them`, EXIT.notFound);
}

/**
 * The monitor's last `count` scored windows, in window order; with `since` (RFC 3339), only those
 * closed since then. The API pages from the first window, so this reads every page and keeps the tail.
 */
export async function lastWindows(client: GatewayClient, monitorId: string, count: number, since?: string): Promise<WindowResultJson[]> {
  let kept: WindowResultJson[] = [];
  let pageToken = '';
  do {
    const page = await client.call<ListWindowResultsResponseJson>('trellis.monitoring.v1.MonitoringService/ListWindowResults', { monitorId, pageSize: 1000, pageToken, ...(since ? { startTime: since } : {}) });
    kept = [...kept, ...(page.windows ?? [])].slice(-count);
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return kept;
}
