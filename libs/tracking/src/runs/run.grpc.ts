import type { Metadata } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, checkUpdateMask, InvalidArgumentError, Requires } from '@trellis/platform';
import {
  CreateRunResponseSchema,
  DeleteRunResponseSchema,
  DeleteTagResponseSchema,
  GetRunResponseSchema,
  LogBatchResponseSchema,
  LogInputsResponseSchema,
  LogMetricResponseSchema,
  LogParamResponseSchema,
  RestoreRunResponseSchema,
  SearchRunsResponseSchema,
  SetTagResponseSchema,
  UpdateRunResponseSchema,
  type CreateRunRequest,
  type CreateRunResponse,
  type DeleteRunRequest,
  type DeleteRunResponse,
  type DeleteTagRequest,
  type DeleteTagResponse,
  type GetRunRequest,
  type GetRunResponse,
  type LogBatchRequest,
  type LogBatchResponse,
  type LogInputsRequest,
  type LogInputsResponse,
  type LogMetricRequest,
  type LogMetricResponse,
  type LogParamRequest,
  type LogParamResponse,
  type RestoreRunRequest,
  type RestoreRunResponse,
  type SearchRunsRequest,
  type SearchRunsResponse,
  type SetTagRequest,
  type SetTagResponse,
  type UpdateRunRequest,
  type UpdateRunResponse,
} from '@trellis/proto';
import { viewTypeFromProto } from '../common/lifecycle.mapping';
import { millisOf } from '../common/time.mapping';
import { encodedRuns } from './run.encoding';
import { metricFromProto } from '../metrics/metric.mapping';
import { runInfoToProto, runStatusFromProto } from './run-info.mapping';
import { runToProto } from './run.mapping';
import { RunService, type RunChanges } from './run.service';

/** The fields of a run that UpdateRun's update_mask may name. */
const RUN_UPDATABLE = ['status', 'end_time', 'run_name'] as const;

/** The changes an UpdateRun request names; a named field must carry a value to set. */
function runChangesOf(request: UpdateRunRequest): RunChanges {
  const mask = checkUpdateMask(request.updateMask?.paths ?? [], RUN_UPDATABLE);
  const changes: RunChanges = {};
  if (mask.has('status')) {
    changes.status = runStatusFromProto(request.status);
    if (!changes.status) throw new InvalidArgumentError('name the status to set; update_mask names it', 'status');
  }
  if (mask.has('end_time')) {
    if (!request.endTime) throw new InvalidArgumentError('name the end time to set; update_mask names it', 'end_time');
    changes.endTimeMs = millisOf(request.endTime, 'end_time');
  }
  if (mask.has('run_name')) changes.runName = request.runName;
  return changes;
}

const keyValue = (entry: { key: string; value: string } | undefined) => ({ key: entry?.key ?? '', value: entry?.value ?? '' });

/**
 * Handlers of `trellis.tracking.v1.RunService`. Logging calls are not audited one by one (a run
 * logs thousands of points); the run's creation, changes and deletion are.
 */
@Controller()
export class RunGrpc {
  constructor(private readonly runs: RunService) {}

  @GrpcMethod('RunService', 'CreateRun')
  @Requires('create', 'Run')
  async createRun(request: CreateRunRequest, metadata: Metadata): Promise<CreateRunResponse> {
    const view = await this.runs.create(callerOf(metadata), {
      experimentId: request.experimentId,
      runName: request.runName,
      startTimeMs: request.startTime ? millisOf(request.startTime, 'start_time') : 0,
      tags: request.tags.map(keyValue),
      parentRunId: request.parentRunId,
      userId: request.userId,
    });
    return create(CreateRunResponseSchema, { run: runToProto(view) });
  }

  @GrpcMethod('RunService', 'GetRun')
  @Requires('read', 'Run')
  async getRun(request: GetRunRequest, metadata: Metadata): Promise<GetRunResponse> {
    return create(GetRunResponseSchema, { run: runToProto(await this.runs.get(callerOf(metadata), request.runId)) });
  }

  @GrpcMethod('RunService', 'UpdateRun')
  @Requires('update', 'Run')
  async updateRun(request: UpdateRunRequest, metadata: Metadata): Promise<UpdateRunResponse> {
    const run = await this.runs.update(callerOf(metadata), request.runId, runChangesOf(request));
    return create(UpdateRunResponseSchema, { runInfo: runInfoToProto(run) });
  }

  @GrpcMethod('RunService', 'DeleteRun')
  @Requires('update', 'Run')
  async deleteRun(request: DeleteRunRequest, metadata: Metadata): Promise<DeleteRunResponse> {
    await this.runs.setDeleted(callerOf(metadata), request.runId, true);
    return create(DeleteRunResponseSchema);
  }

  @GrpcMethod('RunService', 'RestoreRun')
  @Requires('update', 'Run')
  async restoreRun(request: RestoreRunRequest, metadata: Metadata): Promise<RestoreRunResponse> {
    await this.runs.setDeleted(callerOf(metadata), request.runId, false);
    return create(RestoreRunResponseSchema);
  }

  @GrpcMethod('RunService', 'LogMetric')
  @Requires('update', 'Run', { audit: false })
  async logMetric(request: LogMetricRequest, metadata: Metadata): Promise<LogMetricResponse> {
    await this.runs.logBatch(callerOf(metadata), request.runId, { metrics: [metricFromProto(request.metric)], params: [], tags: [] });
    return create(LogMetricResponseSchema);
  }

  @GrpcMethod('RunService', 'LogParam')
  @Requires('update', 'Run', { audit: false })
  async logParam(request: LogParamRequest, metadata: Metadata): Promise<LogParamResponse> {
    await this.runs.logBatch(callerOf(metadata), request.runId, { metrics: [], params: [keyValue(request.param)], tags: [] });
    return create(LogParamResponseSchema);
  }

  @GrpcMethod('RunService', 'SetTag')
  @Requires('update', 'Run', { audit: false })
  async setTag(request: SetTagRequest, metadata: Metadata): Promise<SetTagResponse> {
    await this.runs.logBatch(callerOf(metadata), request.runId, { metrics: [], params: [], tags: [keyValue(request.tag)] });
    return create(SetTagResponseSchema);
  }

  @GrpcMethod('RunService', 'DeleteTag')
  @Requires('update', 'Run', { audit: false })
  async deleteTag(request: DeleteTagRequest, metadata: Metadata): Promise<DeleteTagResponse> {
    await this.runs.deleteTag(callerOf(metadata), request.runId, request.key);
    return create(DeleteTagResponseSchema);
  }

  @GrpcMethod('RunService', 'LogBatch')
  @Requires('update', 'Run', { audit: false })
  async logBatch(request: LogBatchRequest, metadata: Metadata): Promise<LogBatchResponse> {
    await this.runs.logBatch(callerOf(metadata), request.runId, {
      metrics: request.metrics.map(metricFromProto),
      params: request.params.map(keyValue),
      tags: request.tags.map(keyValue),
    });
    return create(LogBatchResponseSchema);
  }

  @GrpcMethod('RunService', 'LogInputs')
  @Requires('update', 'Run', { audit: false })
  async logInputs(request: LogInputsRequest, metadata: Metadata): Promise<LogInputsResponse> {
    await this.runs.logInputs(
      callerOf(metadata),
      request.runId,
      request.datasets.map((input) => ({
        tags: input.tags.map(keyValue),
        dataset: {
          name: input.dataset?.name ?? '',
          digest: input.dataset?.digest ?? '',
          sourceType: input.dataset?.sourceType ?? '',
          source: input.dataset?.source ?? '',
          schema: input.dataset?.schema ?? '',
          profile: input.dataset?.profile ?? '',
        },
      })),
    );
    return create(LogInputsResponseSchema);
  }

  @GrpcMethod('RunService', 'SearchRuns')
  @Requires('read', 'Run')
  async searchRuns(request: SearchRunsRequest, metadata: Metadata): Promise<SearchRunsResponse> {
    const page = await this.runs.search(callerOf(metadata), {
      experimentIds: request.experimentIds,
      filter: request.filter,
      orderBy: request.orderBy,
      viewType: viewTypeFromProto(request.viewType),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    const response = create(SearchRunsResponseSchema, { nextPageToken: page.nextPageToken });
    response.$unknown = encodedRuns(page.runs);
    return response;
  }
}
