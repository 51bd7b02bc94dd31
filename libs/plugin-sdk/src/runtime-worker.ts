import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadedModel, LoadOptions, ModelRuntime } from './contracts';
import type { PluginLogger } from './context';
import type { PluginManifest } from './manifest';
import { checkBatching } from './runtime/rows';
import { WorkerClient } from './runtime/worker-client';
import { stackable, WorkerModel, type WorkerModelHandle } from './runtime/worker-model';

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

// The worker's side, plain JavaScript (a worker cannot run TypeScript): it imports the module by
// path, takes its default export as the host's loader does, makes the instance with a
// PluginContext of its own, and answers calls by id. Where the runtime batches along the first
// dimension its outputs are its caller's, so their buffers are moved back rather than copied.
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
  return { runtime, batches: runtime.batchesAlongFirstDimension === true, manifest: { kind: plugin.manifest.kind, id: plugin.manifest.id, apiVersion: plugin.manifest.apiVersion } };
})();
ready.catch(() => undefined);

const model = (handle) => {
  const found = models.get(handle);
  if (!found) throw new Error('the model was unloaded');
  return found;
};

const ops = {
  async start() {
    const { runtime, manifest, batches } = await ready;
    return { manifest, formats: [...runtime.formats], batches };
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
  infer(id, handle, inputs, abortable) {
    if (!abortable) return model(handle).infer(inputs);
    return inferAbortable(id, handle, inputs);
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

const inferAbortable = async (id, handle, inputs) => {
  const controller = new AbortController();
  calls.set(id, controller);
  try {
    return await model(handle).infer(inputs, { signal: controller.signal });
  } finally {
    calls.delete(id);
  }
};

// The whole-buffer arrays of a runtime's outputs, which it hands over (batchesAlongFirstDimension).
const movable = (value) => {
  const buffers = new Set();
  for (const tensor of value) {
    const data = tensor?.data;
    if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) buffers.add(data.buffer);
  }
  return [...buffers];
};

const answer = (id, op, value) => {
  if (op !== 'infer' || !batches || !Array.isArray(value)) return parentPort.postMessage({ id, ok: true, value });
  try {
    parentPort.postMessage({ id, ok: true, value }, movable(value));
  } catch {
    parentPort.postMessage({ id, ok: true, value });
  }
};

let batches = false;
ready.then((started) => (batches = started.batches), () => undefined);

parentPort.on('message', async ({ id, op, args }) => {
  if (op === 'abort') return calls.get(args[0])?.abort(new Error('aborted by the caller'));
  try {
    answer(id, op, await ops[op](id, ...args));
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
 * is used through the returned object; a call's tensors cross as structured-clone copies, and
 * errors come back as errors of the same name (`TypeError`s stay `TypeError`s) and `code`. Where
 * the runtime declares `batchesAlongFirstDimension`, the dynamic batching a load asks for is done
 * in the calling thread: concurrent calls are gathered and cross as one call of stacked tensors
 * (moved, not copied), whose outputs come back moved and are split (see `WorkerModel`). A module that cannot
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
    const { manifest, formats, batches } = (await client.call('start')) as { manifest: PluginManifest; formats: string[]; batches: boolean };
    return new WorkerRuntime(client, manifest, formats, batches);
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}

class WorkerRuntime implements WorkerModelRuntime {
  private closed = false;

  constructor(
    private readonly client: WorkerClient,
    readonly manifest: PluginManifest,
    readonly formats: readonly string[],
    readonly batchesAlongFirstDimension: boolean,
  ) {}

  async load(path: string, format: string, options?: LoadOptions): Promise<LoadedModel> {
    // Where the runtime batches along the first dimension, the batching happens here, before the hop.
    const batching = this.batchesAlongFirstDimension && options?.batching !== undefined ? checkBatching(options.batching) : undefined;
    const forWorker: LoadOptions | undefined = batching ? { ...options, batching: { maxBatchSize: 1, maxQueueDelayMs: 0 } } : options;
    const model = (await this.client.call('load', forWorker === undefined ? [path, format] : [path, format, forWorker])) as WorkerModelHandle;
    return new WorkerModel(this.client, model, batching && batching.maxBatchSize > 1 && stackable(model.signature) ? batching : undefined);
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
