import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningService } from '@trellis/platform';
import { TestPlatform, type TestTokenClaims } from '@trellis/platform/testing';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
import storageFs from '@trellis/plugin-storage-fs';
import { ArtifactServiceDesc, ExperimentServiceDesc, RegistryServiceDesc, RunServiceDesc } from '@trellis/proto';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { closedPort } from '@trellis/testing';
import { trackingService } from '@trellis/tracking';
// Builds runtime-onnx and the SDK from this workspace's sources as a module a worker imports, as serving loads it.
import { buildForWorker } from '@trellis/plugin-runtime-onnx/testing';

/** Builds runtime-onnx for serving's workers under `dir`; resolves with the module's path (for TRELLIS_SERVING_RUNTIME_MODULES). */
export function buildRuntimeOnnx(dir: string): Promise<string> {
  return buildForWorker(join(__dirname, '..', '..', '..', 'plugins', 'runtime-onnx', 'src'), join(dir, 'worker'));
}

/** Tracking, registry and serving on a test platform (SQLite), serving running ONNX models in its workers. */
export interface OnnxServing {
  /** The spec's scratch folder, removed by `stop`. */
  readonly dir: string;
  readonly platform: TestPlatform;
  readonly tracking: RunningService;
  readonly registry: RunningService;
  readonly serving: RunningService;
  /** serving's OIP REST API, `http://127.0.0.1:<port>`. */
  readonly rest: string;
  /** Creates a run named `train` in a new experiment named `experiment` of project p1; resolves with its id. */
  createRun(as: TestTokenClaims, experiment: string): Promise<string>;
  /**
   * Uploads each model to the run as `<folder>/model.onnx` and registers it, in order, as the next
   * version of `model` in project p1 (creating the model), waiting until each version is ready.
   */
  registerVersions(as: TestTokenClaims, runId: string, model: string, files: ReadonlyArray<readonly [folder: string, onnx: Buffer]>): Promise<void>;
  stop(): Promise<void>;
}

/** Starts it all, in a scratch folder named after `name`; `env` adds to or overrides the services' settings. */
export async function startOnnxServing(name: string, env: Record<string, string> = {}): Promise<OnnxServing> {
  const dir = mkdtempSync(join(tmpdir(), `trellis-serving-${name}-`));
  const runtimeModule = await buildRuntimeOnnx(dir);
  const port = await closedPort();
  const platform = await TestPlatform.start(
    {
      TRELLIS_REGISTRY_PORT: '0',
      TRELLIS_TRACKING_PORT: '0',
      TRELLIS_SERVING_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: String(port),
      TRELLIS_SERVING_RUNTIME_MODULES: `runtime-onnx=${runtimeModule}`,
      ...env,
    },
    { plugins: [storageFs, runtimeOnnx] },
  );
  const tracking = await platform.startService(trackingService);
  const registry = await platform.startService(registryService);
  const serving = await platform.startService(servingService);
  return {
    dir,
    platform,
    tracking,
    registry,
    serving,
    rest: `http://127.0.0.1:${port}`,
    async createRun(as, experiment) {
      const experimentId = (await (await platform.client(ExperimentServiceDesc, tracking.grpcAddress, as)).createExperiment({ projectId: 'p1', name: experiment })).experiment!.id;
      return (await (await platform.client(RunServiceDesc, tracking.grpcAddress, as)).createRun({ experimentId, runName: 'train' })).run!.info!.id;
    },
    async registerVersions(as, runId, model, files) {
      const artifacts = await platform.client(ArtifactServiceDesc, tracking.grpcAddress, as);
      const models = await platform.client(RegistryServiceDesc, registry.grpcAddress, as);
      await models.createModel({ projectId: 'p1', name: model });
      for (const [folder, onnx] of files) {
        await artifacts.uploadArtifact([{ part: { case: 'header', value: { runId, path: `${folder}/model.onnx` } } }, { part: { case: 'chunk', value: onnx } }]);
        const { version } = (await models.createVersion({ projectId: 'p1', modelName: model, source: `runs:/${runId}/${folder}`, runId, format: 'onnx' })).version!;
        await models.waitVersion({ projectId: 'p1', modelName: model, version }, { timeoutMs: 30_000 });
      }
    },
    async stop() {
      await platform.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
