import type { GatewayClient } from '@trellis/client';

/** Files larger than this are offered for download, never fetched to preview. */
export const PREVIEW_LIMIT_BYTES = 1024 * 1024;

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
};

/** The image type a file's extension names; undefined for anything else. */
export function imageTypeOf(path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : IMAGE_TYPES[path.slice(dot + 1).toLowerCase()];
}

/** The bytes as text when they are UTF-8 without NUL characters; undefined for binary content. */
export function textOf(bytes: ArrayBuffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.includes('\u0000') ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * A run's file, fetched through the gateway with the session's credential (MLflow's
 * `/get-artifact` route, which tracking's DownloadArtifact serves): a plain link could not send it.
 */
export async function fetchArtifact(client: GatewayClient, runId: string, path: string, signal?: AbortSignal): Promise<ArrayBuffer> {
  const query = new URLSearchParams({ run_id: runId, path });
  return (await client.request(`/get-artifact?${query}`, { signal })).arrayBuffer();
}

/** Saves a run's file as the browser saves a download. */
export async function downloadArtifact(client: GatewayClient, runId: string, path: string): Promise<void> {
  const url = URL.createObjectURL(new Blob([await fetchArtifact(client, runId, path)]));
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = path.slice(path.lastIndexOf('/') + 1);
    link.click();
  } finally {
    // The click has handed the URL to the download already.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
