import type { GatewayClient } from '@trellis/client';
import type { ListWindowResultsResponseJson } from '@trellis/proto/trellis/monitoring/v1/monitoring_service_pb';
import type { WindowResultJson } from '@trellis/proto/trellis/monitoring/v1/resources_pb';
import { useEffect, useState } from 'react';
import { useSession } from '../../api/session';

/** At most this many windows are drawn on a monitor's page (five pages of the API's largest). */
export const MAX_WINDOWS = 5_000;

/**
 * A monitor's windows closed since `since` (RFC 3339; all when undefined), in window order, at
 * most MAX_WINDOWS of them (the latest kept), with `truncated` when there were more.
 */
export async function fetchWindows(client: GatewayClient, monitorId: string, since: string | undefined, signal?: AbortSignal): Promise<{ windows: WindowResultJson[]; truncated: boolean }> {
  let windows: WindowResultJson[] = [];
  let truncated = false;
  let pageToken = '';
  do {
    const page = await client.call<ListWindowResultsResponseJson>('trellis.monitoring.v1.MonitoringService/ListWindowResults', { monitorId, pageSize: 1000, pageToken, ...(since ? { startTime: since } : {}) }, { signal });
    windows = [...windows, ...(page.windows ?? [])];
    if (windows.length > MAX_WINDOWS) {
      windows = windows.slice(-MAX_WINDOWS);
      truncated = true;
    }
    pageToken = page.nextPageToken ?? '';
  } while (pageToken);
  return { windows, truncated };
}

/** How far back the monitors list looks for a monitor's last window, nearest first: the API pages from the first window. */
const LAST_WINDOW_SPANS_MS = [3_600_000, 86_400_000, 30 * 86_400_000];

/** A monitor's last scored window in the last 30 days, or undefined. */
export async function fetchLastWindow(client: GatewayClient, monitorId: string, signal?: AbortSignal): Promise<WindowResultJson | undefined> {
  for (const span of LAST_WINDOW_SPANS_MS) {
    const { windows } = await fetchWindows(client, monitorId, new Date(Date.now() - span).toISOString(), signal);
    if (windows.length) return windows[windows.length - 1];
  }
  return undefined;
}

/** `useRpc`-like state of a monitor's windows since `since`; `reload` asks again. */
export function useWindows(monitorId: string, since: string | undefined) {
  const { client } = useSession();
  const [state, setState] = useState<{ windows?: WindowResultJson[]; truncated?: boolean; error?: Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    const abort = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    fetchWindows(client, monitorId, since, abort.signal).then(
      ({ windows, truncated }) => !abort.signal.aborted && setState({ windows, truncated, loading: false }),
      (error: Error) => !abort.signal.aborted && setState({ error, loading: false }),
    );
    return () => abort.abort();
  }, [client, monitorId, since]);
  return state;
}

/** A timestamp as seconds since the epoch, the x of a time chart. */
export function epochSeconds(time: string | undefined): number {
  return time ? Date.parse(time) / 1000 : Number.NaN;
}
