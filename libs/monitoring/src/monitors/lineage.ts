import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { type DomainError, excerpt, FailedPreconditionError, type GrpcCallOptions, NotFoundError, PermissionDeniedError, ServiceClients, UnavailableError } from '@trellis/platform';
import {
  DataServiceDesc,
  EndpointServiceDesc,
  GRPCInferenceServiceDesc,
  ProfileServiceDesc,
  RegistryServiceDesc,
  RunServiceDesc,
  type Endpoint,
  type Revision,
} from '@trellis/proto';
import { ProfileStatus, type FileProfile } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import type { TensorDescription } from './column-resolution';

/** The revision of an endpoint a monitor's default reference is found from, and the model's tensors. */
export interface ServedModel {
  revisionId: string;
  modelName: string;
  modelVersion: number;
  runId: string;
  tensors: TensorDescription[];
}

/** A dataset version as data resolved it. */
export interface ResolvedDataset {
  datasetId: string;
  version: number;
  /** `datasets:/<name>/<version>`. */
  uri: string;
}

/** Where a version's profile stands, for the file the reference reads. */
export type ReferenceProfile = { state: 'ready'; file: FileProfile } | { state: 'pending'; message: string } | { state: 'failed'; message: string };

/** The tag MLflow (and tracking) puts the use of a dataset input in. */
const CONTEXT_TAG = 'mlflow.data.context';
const DATASET_URI = /datasets:\/[^\s"']+/;
/** Files per page of GetVersionProfile: its most. */
const PROFILE_PAGE = 100;

/**
 * The other services' answers a monitor's reference is found from: serving's endpoint and model
 * metadata, the registry's version, tracking's run inputs and data's profiles. Every call goes with
 * the options given: the caller's credential while a request lasts, the service's own later.
 */
@Injectable()
export class Lineage {
  constructor(private readonly clients: ServiceClients) {}

  /**
   * The endpoint's revision with the largest traffic share and the tensors its model takes and
   * gives (serving's ModelMetadata of the endpoint at that revision's model version). NOT_FOUND
   * (ENDPOINT_NOT_FOUND) when the project has no endpoint of that name the caller may read.
   */
  async servedModel(options: GrpcCallOptions, projectId: string, endpointName: string): Promise<ServedModel> {
    const endpoint = await this.endpointNamed(options, projectId, endpointName);
    const [top] = [...(endpoint.traffic?.targets ?? [])].sort((a, b) => b.percent - a.percent);
    const revision: Revision | undefined = endpoint.revisions.find((candidate) => candidate.id === top?.revisionId);
    if (!revision) throw new UnavailableError(`endpoint ${endpointName} has no revision in its traffic split now; try again once it has one`);
    const metadata = await remote(`serving's model metadata of endpoint ${endpointName}`, () =>
      // The project header picks this project's endpoint where the caller may read another of that name.
      this.clients.of(GRPCInferenceServiceDesc, 'serving').modelMetadata(
        { name: endpointName, version: String(revision.modelVersion) },
        { ...options, headers: { ...options.headers, 'trellis-project': projectId } },
      ),
    'ENDPOINT_NOT_FOUND');
    const tensor = (output: boolean) => (spec: { name: string; datatype: string; shape: bigint[] }) => ({ name: spec.name, datatype: spec.datatype, shape: spec.shape.map(Number), output });
    return {
      revisionId: revision.id,
      modelName: revision.modelName,
      modelVersion: Number(revision.modelVersion),
      runId: revision.runId,
      tensors: [...metadata.inputs.map(tensor(false)), ...metadata.outputs.map(tensor(true))],
    };
  }

  /**
   * The training dataset of the model a revision serves: the registry version's run (the revision's
   * own when the version names none), its dataset input with context `training`, else its only
   * one. FAILED_PRECONDITION (NO_TRAINING_DATASET) saying where lineage stopped.
   */
  async trainingDataset(options: GrpcCallOptions, projectId: string, model: ServedModel): Promise<{ uri: string; origin: string }> {
    const named = `models:/${model.modelName}/${model.modelVersion}`;
    const { version } = await remote(`the registry's version ${named}`, () =>
      this.clients.of(RegistryServiceDesc, 'registry').getVersion({ projectId, modelName: model.modelName, version: BigInt(model.modelVersion) }, options),
    );
    const runId = version?.runId || model.runId;
    if (!runId) throw noTrainingDataset(`${named} records no run that produced it`);
    const { run } = await remote(`tracking's run ${runId}`, () => this.clients.of(RunServiceDesc, 'tracking').getRun({ runId }, options));
    const inputs = run?.inputs?.datasetInputs ?? [];
    const training = inputs.filter((input) => input.tags.some((tag) => tag.key === CONTEXT_TAG && tag.value === 'training'));
    const chosen = training.length === 1 ? training[0] : training.length === 0 && inputs.length === 1 ? inputs[0] : undefined;
    if (!chosen) {
      throw noTrainingDataset(
        inputs.length === 0 ? `run ${runId} of ${named} logged no dataset input` : `run ${runId} of ${named} logged ${inputs.length} dataset inputs, ${training.length} of them with context training`,
      );
    }
    const uri = DATASET_URI.exec(chosen.dataset?.source ?? '')?.[0];
    if (!uri) throw noTrainingDataset(`the training input of run ${runId} (${excerpt(chosen.dataset?.name ?? '')}) is not a Trellis dataset version: its source is "${excerpt(chosen.dataset?.source ?? '')}"`);
    return { uri, origin: `lineage: ${named}, run ${runId}, training input ${uri}` };
  }

  /** The live version `uri` names in the project. NOT_FOUND (REFERENCE_NOT_FOUND) when there is none. */
  async dataset(options: GrpcCallOptions, projectId: string, uri: string): Promise<ResolvedDataset> {
    const { version } = await remote(`data's version ${excerpt(uri)}`, () => this.clients.of(DataServiceDesc, 'data').resolveDatasetReference({ projectId, reference: uri }, options), 'REFERENCE_NOT_FOUND');
    if (!version) throw new UnavailableError(`data answered no version for ${excerpt(uri)}; try again`);
    return { datasetId: version.datasetId, version: Number(version.version), uri: `datasets:/${version.datasetName}/${version.version}` };
  }

  /**
   * The profile of the version's file at `path`, or of its only tabular file when `path` is empty.
   * NOT_FOUND (REFERENCE_NOT_FOUND) when the version has no such file, or several and no path.
   */
  async profile(options: GrpcCallOptions, dataset: ResolvedDataset, path: string): Promise<ReferenceProfile> {
    const files: FileProfile[] = [];
    let pageToken = '';
    do {
      const page = await remote(`data's profile of ${dataset.uri}`, () =>
        this.clients.of(ProfileServiceDesc, 'data').getVersionProfile({ datasetId: dataset.datasetId, version: BigInt(dataset.version), pathPrefix: path, pageSize: PROFILE_PAGE, pageToken }, options),
      'REFERENCE_NOT_FOUND');
      files.push(...page.files);
      pageToken = page.nextPageToken;
    } while (pageToken);
    const tabular = files.filter((file) => file.status !== ProfileStatus.SKIPPED);
    const candidates = path ? files.filter((file) => file.path === path) : tabular;
    if (candidates.length !== 1) {
      const there = tabular.length ? `its tabular files are ${tabular.slice(0, 10).map((file) => `"${excerpt(file.path)}"`).join(', ')}` : 'it has no tabular file';
      const what = path ? `no file "${excerpt(path)}"` : `${candidates.length ? 'several tabular files' : 'no tabular file'}; name one with reference.dataset_version.path`;
      throw new NotFoundError(`${dataset.uri} has ${what} (${there})`, { reason: 'REFERENCE_NOT_FOUND' });
    }
    const [file] = candidates;
    if (file.status === ProfileStatus.READY) return { state: 'ready', file };
    if (file.status === ProfileStatus.PENDING) return { state: 'pending', message: `the profile of ${dataset.uri} (${file.path}) is being computed` };
    const why = file.status === ProfileStatus.SKIPPED ? 'is not a tabular file' : `could not be profiled: ${excerpt(file.message, 512)}`;
    return { state: 'failed', message: `${file.path} of ${dataset.uri} ${why}` };
  }

  /**
   * The project's live dataset named `name` and its latest live version (0 when it has none), paged
   * through ListDatasets. NOT_FOUND (DATASET_NOT_FOUND) when the caller may read no such dataset.
   */
  async datasetNamed(options: GrpcCallOptions, projectId: string, name: string): Promise<{ datasetId: string; name: string; latestVersion: number }> {
    const datasets = this.clients.of(DataServiceDesc, 'data');
    let pageToken = '';
    do {
      const page = await remote(`data's datasets of project ${projectId}`, () => datasets.listDatasets({ projectId, pageSize: 1000, pageToken }, options), 'DATASET_NOT_FOUND');
      const found = page.datasets.find((dataset) => dataset.name === name);
      if (found) return { datasetId: found.id, name: found.name, latestVersion: Number(found.latestVersion) };
      // Pages come in name order: past the name, it is not there.
      if (page.datasets.some((dataset) => dataset.name > name)) break;
      pageToken = page.nextPageToken;
    } while (pageToken);
    throw new NotFoundError(`project ${projectId} has no dataset named "${excerpt(name)}"`, { reason: 'DATASET_NOT_FOUND' });
  }

  /** The project's endpoint named `name`, paged through ListEndpoints (serving has no GetEndpoint by name). */
  private async endpointNamed(options: GrpcCallOptions, projectId: string, name: string): Promise<Endpoint> {
    const endpoints = this.clients.of(EndpointServiceDesc, 'serving');
    let pageToken = '';
    do {
      const page = await remote(`serving's endpoints of project ${projectId}`, () => endpoints.listEndpoints({ projectId, pageSize: 1000, pageToken }, options), 'ENDPOINT_NOT_FOUND');
      const found = page.endpoints.find((endpoint) => endpoint.name === name);
      if (found) return found;
      // Pages come in name order: past the name, it is not there.
      if (page.endpoints.some((endpoint) => endpoint.name > name)) break;
      pageToken = page.nextPageToken;
    } while (pageToken);
    throw new NotFoundError(`project ${projectId} has no endpoint named "${excerpt(name)}"`, { reason: 'ENDPOINT_NOT_FOUND' });
  }
}

function noTrainingDataset(why: string): FailedPreconditionError {
  return new FailedPreconditionError(`lineage finds no dataset to use as the reference: ${why}; give reference.dataset_version`, { reason: 'NO_TRAINING_DATASET' });
}

/**
 * The answer of another service, its refusals as this service's errors: NOT_FOUND with
 * `notFoundReason` when given, PERMISSION_DENIED as itself, anything else UNAVAILABLE.
 */
async function remote<T>(what: string, call: () => Promise<T>, notFoundReason?: 'ENDPOINT_NOT_FOUND' | 'REFERENCE_NOT_FOUND' | 'DATASET_NOT_FOUND'): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const { code, details } = error as { code?: number; details?: string };
    if (code === status.NOT_FOUND && notFoundReason) throw new NotFoundError(`${what}: ${details}`, { reason: notFoundReason });
    if (code === status.PERMISSION_DENIED) throw new PermissionDeniedError(`${what} refused you: ${details}`);
    if (code === status.NOT_FOUND) throw new FailedPreconditionError(`${what} is gone: ${details}`, { reason: 'NO_TRAINING_DATASET' });
    if ((error as DomainError).code !== undefined && !details) throw error;
    throw new UnavailableError(`${what} could not be read now: ${details ?? (error as Error).message}; try again`);
  }
}
