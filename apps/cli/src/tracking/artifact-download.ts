import type { GatewayClient } from '@trellis/client';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * Streams a run's artifact file to `target` (or to standard output for `-`), never holding it in
 * memory; a file is written as `<target>.partial` and renamed once whole. Returns the bytes written.
 */
export async function downloadArtifact(client: GatewayClient, runId: string, path: string, target: string): Promise<number> {
  const response = await client.request(`/get-artifact?${new URLSearchParams({ run_id: runId, path })}`);
  if (!response.body) return 0;
  let bytes = 0;
  const counted = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>).on('data', (chunk: Buffer) => (bytes += chunk.length));
  if (target === '-') {
    await pipeline(counted, process.stdout, { end: false });
    return bytes;
  }
  const partial = `${target}.partial`;
  try {
    await pipeline(counted, createWriteStream(partial, { mode: 0o644 }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return bytes;
}
