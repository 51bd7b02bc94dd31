import { definePlugin, z, type ObjectStore, type PresignOptions } from '@trellis/plugin-sdk';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Storage for the data service's specs (a service lib builds in no real plugin): the plugin SDK's
 * in-memory store as the `default` instance, and, as `presigning`, one that also presigns PUT URLs
 * served by a local HTTP server, as S3 would. `env` points the kit at a config declaring both.
 */
export interface TestStorage {
  plugins: ReturnType<typeof definePlugin>[];
  env: Record<string, string>;
  /** The instances' stores, by instance name, as the plugin created them. */
  stores: Map<string, ObjectStore>;
  close(): Promise<void>;
}

/** Starts the presigned URLs' server and writes the config; `close` stops and removes both. */
export async function startTestStorage(): Promise<TestStorage> {
  const stores = new Map<string, ObjectStore>();
  const urls = new Map<string, { store: ObjectStore; key: string; expiresAt: number }>();
  const server: Server = createServer((request, response) => {
    const target = urls.get(request.url ?? '');
    if (request.method !== 'PUT' || !target || target.expiresAt < Date.now()) {
      response.writeHead(403).end();
      request.resume();
      return;
    }
    target.store.put(target.key, request).then(
      () => response.writeHead(200).end(),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const memory = definePlugin({
    manifest: { kind: 'storage', id: 'storage-memory', apiVersion: 'v1' },
    configSchema: z.object({ name: z.string() }),
    create: (_context, config) => {
      const store = new MemoryObjectStore();
      stores.set(config.name, store);
      return store;
    },
  });
  const presigning = definePlugin({
    manifest: { kind: 'storage', id: 'storage-presigning', apiVersion: 'v1' },
    configSchema: z.object({ name: z.string() }),
    create: (_context, config) => {
      const store: ObjectStore = Object.assign(new MemoryObjectStore(), {
        async presign(key: string, options: PresignOptions): Promise<string> {
          const path = `/${urls.size + 1}`;
          urls.set(path, { store, key, expiresAt: Date.now() + options.expiresInSeconds * 1000 });
          return `${base}${path}`;
        },
      });
      stores.set(config.name, store);
      return store;
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'trellis-data-storage-'));
  const config = join(dir, 'trellis.yaml');
  writeFileSync(config, 'storage:\n  default:\n    plugin: storage-memory\n    config: { name: default }\n  presigning:\n    plugin: storage-presigning\n    config: { name: presigning }\n');
  return {
    plugins: [memory, presigning],
    env: { TRELLIS_CONFIG: config },
    stores,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
