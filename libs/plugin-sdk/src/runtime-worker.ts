import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InferenceStats, LoadedModel, LoadOptions, ModelRuntime, ModelSignature, Tensor } from './contracts';
import type { PluginLogger } from './context';
import type { PluginManifest } from './manifest';

/** Options of `loadPluginInWorker`. */
export interface WorkerPluginOptions {
  /** The instance's config, as the host passes it: plain JSON, checked by the plugin's `configSchema` in the worker. */
  config: unknown;
  /** The instance's name in its `PluginContext`; `test` by default. */
  instanceName?: string;
  /** The instance's data directory; a fresh temporary one by default. */
  dataDir?: string;
  /** Where the instance's log lines go (the worker forwards them); dropped by default. */
  logger?: PluginLogger;
}

/** A runtime instance living in a worker thread, used from the thread that made it. */
export interface WorkerModelRuntime extends ModelRuntime {
  /** The manifest of the plugin the worker loaded. */
  readonly manifest: PluginManifest;
  /** Unloads every model, closes the instance and ends the worker. */
  close(): Promise<void>;
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name?: string; message?: string; code?: string };
}

// The worker's side, plain JavaScript (a worker cannot run TypeScript): it imports the module by
// path, takes its default export as the host's loader does, makes the instance with a
// PluginContext of its own, and answers calls by id.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');

const isPlugin = (v) => typeof v === 'object' && v !== null && typeof v.create === 'function' && typeof v.manifest === 'object' && v.manifest !== null && typeof v.configSchema?.safeParse === 'function';
const defaultExport = (mod) => {
  const first = mod?.default ?? mod;
  return isPlugin(first) || !isPlugin(first?.default) ? first : first.default;
};
const shutdown = new AbortController();
const forward = (level) => (obj, msg) => parentPort.postMessage({ log: { level, msg, obj: JSON.parse(JSON.stringify(obj ?? {})) } });
const logger = { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
const models = new Map();
const calls = new Map();
let modelIds = 0;

const ready = (async () => {
  const { modulePath, config, instanceName, dataDir } = workerData;
  const plugin = defaultExport(await import(pathToFileURL(modulePath).href));
  if (!isPlugin(plugin)) {
    throw new TypeError(modulePath + ': its default export is not a plugin; a runtime plugin module does export default definePlugin({ manifest, configSchema, create })');
  }
  if (plugin.manifest.kind !== 'runtime') throw new TypeError(modulePath + ': its default export is a ' + plugin.manifest.kind + ' plugin (' + plugin.manifest.id + '), not a runtime plugin');
  const parsed = plugin.configSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? i.path.join('.') + ': ' : '') + i.message).join('; ');
    throw new TypeError('runtime instance "' + instanceName + '" (plugin ' + plugin.manifest.id + ') has an invalid config: ' + issues);
  }
  const runtime = await plugin.create({ instanceName, logger, dataDir, signal: shutdown.signal }, parsed.data);
  return { runtime, manifest: { kind: plugin.manifest.kind, id: plugin.manifest.id, apiVersion: plugin.manifest.apiVersion } };
})();
ready.catch(() => undefined);

const model = (handle) => {
  const found = models.get(handle);
  if (!found) throw new Error('the model was unloaded');
  return found;
};

const ops = {
  async start() {
    const { runtime, manifest } = await ready;
    return { manifest, formats: [...runtime.formats] };
  },
  async load(id, path, format, options) {
    const loaded = await (await ready).runtime.load(path, format, options);
    const handle = ++modelIds;
    models.set(handle, loaded);
    return { handle, signature: loaded.describe(), stats: typeof loaded.stats === 'function' };
  },
  async stats(id, handle) {
    return model(handle).stats();
  },
  async infer(id, handle, inputs) {
    const controller = new AbortController();
    calls.set(id, controller);
    try {
      return await model(handle).infer(inputs, { signal: controller.signal });
    } finally {
      calls.delete(id);
    }
  },
  async unload(id, handle) {
    const loaded = model(handle);
    models.delete(handle);
    await loaded.unload();
  },
  async close() {
    shutdown.abort();
    for (const loaded of models.values()) await loaded.unload();
    models.clear();
    const { runtime } = await ready;
    await runtime.close?.();
  },
};

parentPort.on('message', async ({ id, op, args }) => {
  if (op === 'abort') return calls.get(args[0])?.abort(new Error('aborted by the caller'));
  try {
    parentPort.postMessage({ id, ok: true, value: await ops[op](id, ...args) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: { name: err?.name, message: err?.message ?? String(err), code: err?.code } });
  }
});
`;

/**
 * Loads the runtime plugin module at `modulePath` (built JavaScript, CommonJS or ESM) in a new
 * `worker_threads` Worker and makes a runtime instance there, as the serving host does: the worker
 * imports the module, takes its default export, checks that it is a runtime plugin, checks `config`
 * against its schema and calls `create()` with a `PluginContext` made in the worker. The instance
 * is used through the returned object; tensors cross as structured-clone copies, and errors come
 * back as errors of the same name (`TypeError`s stay `TypeError`s) and `code`. A module that cannot
 * be imported, is not a runtime plugin, or whose `create()` throws rejects with why. The serving
 * host runs each runtime instance this way; specs (`@trellis/plugin-sdk/testing` re-exports it)
 * load a plugin as serving does.
 *
 * @example
 * const runtime = await loadPluginInWorker(require.resolve('../dist/index.js'), { config: {} });
 * const model = await runtime.load(modelPath, 'onnx');
 */
export async function loadPluginInWorker(modulePath: string, options: WorkerPluginOptions): Promise<WorkerModelRuntime> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      modulePath,
      config: options.config,
      instanceName: options.instanceName ?? 'test',
      dataDir: options.dataDir ?? mkdtempSync(join(tmpdir(), 'trellis-plugin-data-')),
    },
  });
  const client = new WorkerClient(worker, options.logger);
  try {
    const { manifest, formats } = (await client.call('start')) as { manifest: PluginManifest; formats: string[] };
    return new WorkerRuntime(client, manifest, formats);
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}

class WorkerClient {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private ids = 0;
  private ended: Error | undefined;

  constructor(
    readonly worker: Worker,
    logger?: PluginLogger,
  ) {
    worker.on('message', (reply: Reply & { log?: { level: keyof PluginLogger; obj: object; msg?: string } }) => {
      if (reply.log !== undefined) return logger?.[reply.log.level](reply.log.obj, reply.log.msg);
      const call = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) call?.resolve(reply.value);
      else call?.reject(errorFrom(reply.error));
    });
    worker.on('error', (err) => this.end(err));
    worker.on('exit', (code) => this.end(new Error(`the plugin worker exited (code ${code})`)));
  }

  call(op: string, args: unknown[] = [], signal?: AbortSignal): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const id = ++this.ids;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ id: 0, op: 'abort', args: [id] });
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (value) => (settle(), resolve(value)),
        reject: (err) => (settle(), reject(err)),
      });
      this.worker.postMessage({ id, op, args });
    });
  }

  private end(err: Error): void {
    this.ended ??= err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }
}

class WorkerRuntime implements WorkerModelRuntime {
  private closed = false;

  constructor(
    private readonly client: WorkerClient,
    readonly manifest: PluginManifest,
    readonly formats: readonly string[],
  ) {}

  async load(path: string, format: string, options?: LoadOptions): Promise<LoadedModel> {
    const args = options === undefined ? [path, format] : [path, format, options];
    const { handle, signature, stats } = (await this.client.call('load', args)) as { handle: number; signature: ModelSignature; stats: boolean };
    const client = this.client;
    return {
      ...(stats && { stats: async () => (await client.call('stats', [handle])) as InferenceStats }),
      describe: () => structuredClone(signature) as ModelSignature,
      infer: async (inputs: readonly Tensor[], options: { signal?: AbortSignal } = {}) => {
        options.signal?.throwIfAborted();
        return (await client.call('infer', [handle, inputs], options.signal)) as Tensor[];
      },
      unload: async () => {
        await client.call('unload', [handle]);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.call('close');
    } finally {
      await this.client.worker.terminate();
    }
  }
}

/** An error of the name the worker's error had (TypeError, RangeError or Error), with its code. */
function errorFrom(error: Reply['error'] = {}): Error {
  const message = error.message ?? 'the plugin worker failed';
  const made = error.name === 'TypeError' ? new TypeError(message) : error.name === 'RangeError' ? new RangeError(message) : new Error(message);
  if (error.name && made.name !== error.name) made.name = error.name;
  if (error.code !== undefined) Object.assign(made, { code: error.code });
  return made;
}
