import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Authenticated, callerOf, drainedStream, Requires, type DrainableCall } from '@trellis/platform';
import {
  CancelJobResponseSchema,
  GetJobResponseSchema,
  ListJobsResponseSchema,
  ListPriorityClassesResponseSchema,
  LogStream,
  StreamJobLogsResponseSchema,
  SubmitJobResponseSchema,
  type CancelJobRequest,
  type CancelJobResponse,
  type GetJobRequest,
  type GetJobResponse,
  type ListJobsRequest,
  type ListJobsResponse,
  type ListPriorityClassesResponse,
  type StreamJobLogsRequest,
  type StreamJobLogsResponse,
  type SubmitJobRequest,
  type SubmitJobResponse,
} from '@trellis/proto';
import type { Observable } from 'rxjs';
import { jobToProto, stateName } from './job.mapping';
import { JOB_KIND, JobService } from './job.service';
import { PriorityClasses } from './priority-classes';

/** Handlers of `trellis.compute.v1.JobService`: they map proto to domain and back, and declare each method's permission. */
@Controller()
export class JobGrpc {
  constructor(
    private readonly jobs: JobService,
    private readonly priorities: PriorityClasses,
  ) {}

  @GrpcMethod('JobService', 'SubmitJob')
  @Requires('create', JOB_KIND)
  async submitJob(request: SubmitJobRequest, metadata: Metadata): Promise<SubmitJobResponse> {
    const job = await this.jobs.submit(callerOf(metadata), { projectId: request.projectId, queue: request.queue, spec: request.spec, requestId: request.requestId });
    return create(SubmitJobResponseSchema, { job: jobToProto(job) });
  }

  @GrpcMethod('JobService', 'GetJob')
  @Requires('read', JOB_KIND)
  async getJob(request: GetJobRequest, metadata: Metadata): Promise<GetJobResponse> {
    const { job, attempts } = await this.jobs.get(callerOf(metadata), request.jobId);
    return create(GetJobResponseSchema, { job: jobToProto(job, attempts) });
  }

  @GrpcMethod('JobService', 'ListJobs')
  @Requires('read', JOB_KIND)
  async listJobs(request: ListJobsRequest, metadata: Metadata): Promise<ListJobsResponse> {
    const page = await this.jobs.list(callerOf(metadata), { ...request, state: stateName(request.state) });
    return create(ListJobsResponseSchema, { jobs: page.jobs.map((job) => jobToProto(job)), nextPageToken: page.nextPageToken });
  }

  @GrpcMethod('JobService', 'CancelJob')
  @Requires('update', JOB_KIND)
  async cancelJob(request: CancelJobRequest, metadata: Metadata): Promise<CancelJobResponse> {
    return create(CancelJobResponseSchema, { job: jobToProto(await this.jobs.cancel(callerOf(metadata), request.jobId)) });
  }

  @GrpcMethod('JobService', 'StreamJobLogs')
  @Requires('read', JOB_KIND)
  streamJobLogs(request: StreamJobLogsRequest, metadata: Metadata, call?: DrainableCall): Observable<StreamJobLogsResponse> {
    const caller = callerOf(metadata);
    const jobs = this.jobs;
    return drainedStream(call, async function* (signal) {
      for await (const line of jobs.logs(caller, request.jobId, request.attempt, request.follow, signal)) {
        yield create(StreamJobLogsResponseSchema, {
          time: timestampFromDate(line.time),
          stream: line.stream === 'stderr' ? LogStream.STDERR : LogStream.STDOUT,
          replica: line.replica,
          line: line.line,
          attempt: line.attempt,
        });
      }
    });
  }

  @GrpcMethod('JobService', 'ListPriorityClasses')
  @Authenticated('read', JOB_KIND)
  listPriorityClasses(): ListPriorityClassesResponse {
    return create(ListPriorityClassesResponseSchema, { priorityClasses: this.priorities.all.map((info) => ({ ...info })) });
  }
}
