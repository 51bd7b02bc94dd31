import { status } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { type Caller, excerpt, forwardAs, InvalidArgumentError, NotFoundError, PermissionDeniedError, SERVICE_CONFIG, ServiceClients, UnavailableError } from '@trellis/platform';
import { RunServiceDesc, type DatasetInput } from '@trellis/proto';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { ENDPOINT_KIND } from '../endpoints/endpoint.service';
import { checkLoggingShare } from '../endpoints/logging-share';
import type { ServingConfig } from '../serving.config';
import type { PredictionEntity } from './prediction.entity';
import { PredictionLog } from './prediction-log';
import { PredictionRepository } from './prediction.repository';

/** An endpoint's logging share and whether it is the service default. */
export interface LoggingView {
  endpointId: string;
  sampleShare: number;
  isDefault: boolean;
}

/** What TracePrediction answers. */
export interface PredictionTrace {
  prediction: PredictionEntity;
  revisionNumber: number;
  modelName: string;
  modelVersion: number;
  runId: string;
  datasets: { name: string; digest: string; sourceType: string; source: string; context: string }[];
}

/** The tag MLflow (and tracking) puts the use of a dataset input in. */
const CONTEXT_TAG = 'mlflow.data.context';

/** Logging shares per endpoint and tracing of logged predictions to the data their model was trained on. */
@Injectable()
export class PredictionService {
  constructor(
    private readonly predictions: PredictionRepository,
    private readonly endpoints: EndpointRepository,
    private readonly log: PredictionLog,
    private readonly clients: ServiceClients,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
  ) {}

  async getLogging(caller: Caller, endpointId: string): Promise<LoggingView> {
    await this.endpoint(caller, endpointId, 'read');
    const row = await this.predictions.share(endpointId);
    return row ? { endpointId, sampleShare: row.sampleShare, isDefault: false } : { endpointId, sampleShare: this.config.predictionLogShare, isDefault: true };
  }

  async setLogging(caller: Caller, endpointId: string, share: number): Promise<LoggingView> {
    checkLoggingShare(share, 'sample_share');
    const endpoint = await this.endpoint(caller, endpointId, 'update');
    await this.predictions.setShare({ endpointId: endpoint.id, projectId: endpoint.projectId, sampleShare: share });
    this.log.applyShare(endpoint.id, share);
    return { endpointId: endpoint.id, sampleShare: share, isDefault: false };
  }

  /** The latest kept prediction of that id in a project the caller may read, and its path to data. */
  async trace(caller: Caller, requestId: string): Promise<PredictionTrace> {
    if (requestId === '') throw new InvalidArgumentError('is required', 'request_id');
    const prediction = (await this.predictions.byRequestId(requestId)).find((row) => caller.can('read', ENDPOINT_KIND, { projectId: row.projectId, id: row.endpointId }));
    if (!prediction) {
      throw new NotFoundError(`no logged prediction ${JSON.stringify(excerpt(requestId, 64))} in a project you may read: only sampled requests are kept, for ${this.config.predictionRetentionDays} days`, { reason: 'PREDICTION_NOT_FOUND' });
    }
    const [revision] = await this.endpoints.revisions([prediction.revisionId]);
    if (!revision) throw new NotFoundError(`the revision that answered ${JSON.stringify(excerpt(requestId, 64))} was deleted with its endpoint`, { reason: 'PREDICTION_NOT_FOUND' });
    const trace = { prediction, revisionNumber: revision.number, modelName: revision.modelName, modelVersion: revision.modelVersion, runId: revision.runId };
    return { ...trace, datasets: revision.runId ? (await this.runInputs(caller, revision.runId)).map(traced) : [] };
  }

  private async endpoint(caller: Caller, endpointId: string, action: 'read' | 'update') {
    if (endpointId === '') throw new InvalidArgumentError('is required', 'endpoint_id');
    const endpoint = endpointId.length <= 36 ? await this.endpoints.findById(endpointId) : null;
    const subject = endpoint ? { projectId: endpoint.projectId, id: endpoint.id } : undefined;
    if (!endpoint || !subject || !caller.can('read', ENDPOINT_KIND, subject)) throw new NotFoundError(`endpoint ${excerpt(endpointId)} not found`, { reason: 'ENDPOINT_NOT_FOUND' });
    if (!caller.can(action, ENDPOINT_KIND, subject)) throw new PermissionDeniedError(`setting prediction logging needs editor rights on project ${endpoint.projectId}`);
    return endpoint;
  }

  /** The run's dataset inputs, read from tracking as the caller. */
  private async runInputs(caller: Caller, runId: string): Promise<DatasetInput[]> {
    try {
      const { run } = await this.clients.of(RunServiceDesc, 'tracking').getRun({ runId }, forwardAs(caller));
      return run?.inputs?.datasetInputs ?? [];
    } catch (error) {
      const { code, details } = error as { code?: number; details?: string };
      if (code === status.NOT_FOUND) throw new NotFoundError(`run ${runId}, which produced the model, is gone from tracking: ${details}`, { reason: 'RUN_NOT_FOUND' });
      if (code === status.PERMISSION_DENIED) throw new PermissionDeniedError(`tracking refused to show you run ${runId}: ${details}`);
      throw new UnavailableError(`tracking could not answer for run ${runId} now: ${details ?? (error as Error).message}`);
    }
  }
}

function traced(input: DatasetInput): PredictionTrace['datasets'][number] {
  const dataset = input.dataset;
  const context = input.tags.find((tag) => tag.key === CONTEXT_TAG)?.value ?? '';
  return { name: dataset?.name ?? '', digest: dataset?.digest ?? '', sourceType: dataset?.sourceType ?? '', source: dataset?.source ?? '', context };
}
