import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, InjectPluginInstances, LOGGER, type Logger, PluginInstances, SERVICE_CONFIG, type TrellisConfig } from '@trellis/platform';
import { loadPluginInWorker, type WorkerModelRuntime } from '@trellis/plugin-sdk';
import type { ServingConfig } from '../serving.config';

/**
 * The runtime instances of this replica, in worker threads: the worker imports the instance's
 * plugin module by path and makes the instance there (the runtime contract), so a model's runs
 * never block the event loop that answers requests. An instance has a worker per slot, so that a
 * revision with N replicas runs N model instances at once, one in each of slots 0..N-1.
 */
@Injectable()
export class RuntimeWorkers implements OnApplicationShutdown {
  private readonly workers = new Map<string, Promise<WorkerModelRuntime>>();
  private readonly modules: ReadonlyMap<string, string>;

  constructor(
    @InjectPluginInstances('runtime') private readonly instances: PluginInstances<'runtime'>,
    @Inject(SERVICE_CONFIG) config: ServingConfig,
    @Inject(CONFIG) private readonly platform: TrellisConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.modules = parseRuntimeModules(config.runtimeModules);
  }

  /** The worker of runtime instance `name` in `slot`, started on first use; rejects with why it cannot start. */
  of(name: string, slot = 0): Promise<WorkerModelRuntime> {
    const key = `${name}#${slot}`;
    let worker = this.workers.get(key);
    if (!worker) {
      worker = this.start(name, slot);
      this.workers.set(key, worker);
      // A worker that failed to start is tried again by the next revision that needs it.
      worker.catch(() => this.workers.get(key) === worker && this.workers.delete(key));
    }
    return worker;
  }

  async onApplicationShutdown(): Promise<void> {
    const started = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(started.map(async (worker) => (await worker.catch(() => undefined))?.close()));
  }

  private async start(name: string, slot: number): Promise<WorkerModelRuntime> {
    const { plugin, config } = await this.instances.describe(name);
    const modulePath = this.modules.get(plugin) ?? packageEntry(plugin);
    const logger = this.logger.child({ runtime: name, plugin, slot });
    return loadPluginInWorker(modulePath, {
      config,
      instanceName: name,
      dataDir: join(this.platform.dataDir, 'plugins', 'runtime', 'serving', name),
      logger: { debug: (obj, msg) => logger.debug(obj, msg), info: (obj, msg) => logger.info(obj, msg), warn: (obj, msg) => logger.warn(obj, msg), error: (obj, msg) => logger.error(obj, msg) },
    });
  }
}

/** `id=path,id=path` as a map; paths relative to the working directory. */
export function parseRuntimeModules(text: string): Map<string, string> {
  const modules = new Map<string, string>();
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new Error(`services.serving.runtimeModules: "${pair}" is not <plugin id>=<module path>`);
    modules.set(pair.slice(0, at).trim(), resolve(pair.slice(at + 1).trim()));
  }
  return modules;
}

/** The entry file of the package `@trellis/plugin-<id>`, as the working directory resolves it. */
function packageEntry(plugin: string): string {
  const packageName = `@trellis/plugin-${plugin}`;
  try {
    return createRequire(join(process.cwd(), 'index.js')).resolve(packageName);
  } catch (error) {
    throw new Error(`cannot find the module of runtime plugin ${plugin} for its worker thread: ${packageName} does not resolve from ${process.cwd()} (${(error as Error).message.split('\n')[0]}); name it in services.serving.runtimeModules`, { cause: error });
  }
}
