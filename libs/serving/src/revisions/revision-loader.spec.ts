import { createLogger, type Outbox } from '@trellis/platform';
import type { LoadedModel, WorkerModelRuntime } from '@trellis/plugin-sdk';
import type { EndpointEntity, RevisionEntity } from '../endpoints/endpoint.entity';
import type { EndpointRepository } from '../endpoints/endpoint.repository';
import type { ServingConfig } from '../serving.config';
import type { ArtifactFetcher } from './artifact-fetcher';
import { RevisionLoader } from './revision-loader';
import type { RuntimeWorkers } from './runtime-workers';

/** A promise and the functions that settle it, for a call the spec answers when it chooses. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

describe('RevisionLoader', () => {
  it('leaves loaded a revision deployed while a reconcile pass read the endpoints from before it', async () => {
    const unloaded: string[] = [];
    const model = (revisionId: string) => ({ describe: () => ({ inputs: [], outputs: [] }), unload: async () => void unloaded.push(revisionId) }) as unknown as LoadedModel;
    const runtime = { formats: ['onnx'], load: async (path: string) => model(path) } as unknown as WorkerModelRuntime;
    const endpointsRead = deferred<EndpointEntity[]>();
    const repository = {
      allEndpoints: () => endpointsRead.promise,
      revisions: async () => [],
      transaction: async (work: (tx: unknown) => Promise<boolean>) => work({}),
      settleRevision: async () => false,
    } as unknown as EndpointRepository;
    const fetcher = { fetch: async ({ revision }: { revision: RevisionEntity }) => `${revision.id}.onnx`, remove: async () => undefined } as unknown as ArtifactFetcher;
    const workers = { of: async () => runtime } as unknown as RuntimeWorkers;
    const loader = new RevisionLoader(repository, fetcher, workers, {} as Outbox, { reconcileIntervalMs: 60_000 } as ServingConfig, createLogger({ level: 'silent' }));

    // A pass starts and reads the endpoints; before its answer, an endpoint is deployed through this replica.
    const pass = loader.reconcile();
    const endpoint = { id: 'e1', name: 'churn', projectId: 'p1', maxBatchSize: 1, maxQueueDelayUs: 0 } as EndpointEntity;
    const revision = { id: 'r1', endpointId: 'e1', number: 1, replicas: 1, runtime: 'onnx', modelFormat: 'onnx', modelName: 'churn', modelVersion: 1 } as unknown as RevisionEntity;
    await loader.ensure(endpoint, revision);
    // What the pass read was from before the deploy: no endpoint names r1.
    endpointsRead.resolve([]);
    await pass;

    expect(unloaded).toEqual([]);
    expect(loader.held('r1')?.revisionId).toBe('r1');
  });
});
