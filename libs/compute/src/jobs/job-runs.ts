import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceClients, ServiceIdentity } from '@trellis/platform';
import { RunServiceDesc, RunStatus, TokenServiceDesc } from '@trellis/proto';
import type { ComputeConfig } from '../compute.config';
import type { AttemptEntity, JobEntity, JobStateName } from './job.entity';
import { JobRepository } from './job.repository';

/** How long a job's credential lives at most: governance's limit for a key a platform service makes for a user. */
const CREDENTIAL_MAX_MS = 30 * 24 * 60 * 60 * 1000;
/** Life of a credential the service makes for one task of its own as the submitter (a run's status, a job's dataset inputs). */
const SHORT_CREDENTIAL_MS = 10 * 60 * 1000;

/** What an attempt gets from its job's run: the MLflow variables, and the id of the credential in them (to revoke at its end). */
export interface RunContext {
  env: Record<string, string>;
  credentialId: string;
}

/** The run status a job's state means; none for the states between submission and the run's start. */
const RUN_STATUS: Partial<Record<JobStateName, RunStatus>> = {
  RUNNING: RunStatus.RUNNING,
  SUCCEEDED: RunStatus.FINISHED,
  FAILED: RunStatus.FAILED,
  CANCELLED: RunStatus.KILLED,
};

/**
 * The tracking run of each job that names an experiment, and the credential its code logs with.
 * The service, as its own account acting for the submitter, has governance make the submitter a
 * key limited to the job's project (a platform service may, for the user it acts for); the run is
 * created and its status changed with that user's credential (a platform service's own account only
 * reads projects), so the run is the submitter's, as if their script had made it. Each attempt gets
 * a key of its own in MLFLOW_TRACKING_TOKEN, revoked when the attempt ends.
 */
@Injectable()
export class JobRuns {
  constructor(
    private readonly identity: ServiceIdentity,
    private readonly clients: ServiceClients,
    private readonly jobs: JobRepository,
    @Inject(SERVICE_CONFIG) private readonly config: ComputeConfig,
  ) {}

  /** Whether the job gets a run: it names an experiment, and jobs are told where tracking is. */
  tracks(job: Pick<JobEntity, 'spec'>): boolean {
    return job.spec.experimentId !== '' && this.config.trackingUri !== '';
  }

  /** The run's variables for an attempt, creating the job's run on its first attempt. */
  async prepare(job: JobEntity, attempt: AttemptEntity): Promise<RunContext> {
    if (!this.tracks(job)) return { env: {}, credentialId: '' };
    const lifetime = Math.min(CREDENTIAL_MAX_MS, job.spec.timeoutMs ? 2 * job.spec.timeoutMs + 3_600_000 : CREDENTIAL_MAX_MS);
    const credential = await this.credential(job, `compute job ${job.id} attempt ${attempt.number}`, lifetime);
    let runId = job.runId;
    if (runId === '') {
      const runs = this.clients.of(RunServiceDesc, 'tracking');
      const { run } = await runs.createRun(
        { experimentId: job.spec.experimentId, runName: job.spec.name, tags: [{ key: 'trellis.job_id', value: job.id }, { key: 'trellis.queue', value: job.queue }] },
        { token: await this.tokenOf(credential.secret) },
      );
      runId = run?.info?.id ?? '';
      await this.jobs.transaction((tx) => this.jobs.update(tx, job.id, { runId }));
    }
    return {
      credentialId: credential.id,
      env: {
        MLFLOW_TRACKING_URI: this.config.trackingUri,
        MLFLOW_TRACKING_TOKEN: credential.secret,
        MLFLOW_EXPERIMENT_ID: job.spec.experimentId,
        MLFLOW_RUN_ID: runId,
      },
    };
  }

  /** Sets the run's status to what the job's state means (RUNNING, FINISHED, FAILED, KILLED). */
  async follow(jobId: string, state: JobStateName): Promise<void> {
    const status = RUN_STATUS[state];
    const job = await this.jobs.find(jobId);
    if (status === undefined || !job || job.runId === '' || !this.tracks(job)) return;
    await this.asSubmitter(job, `compute job ${job.id} run status`, async (token) => {
      await this.clients.of(RunServiceDesc, 'tracking').updateRun({ runId: job.runId, status, updateMask: { paths: ['status'] } }, { token });
    });
  }

  /** Runs `use` with a token of the job's submitter, limited to its project, from a credential made for it and revoked after (expiring anyway within minutes). */
  async asSubmitter<T>(job: JobEntity, purpose: string, use: (token: string) => Promise<T>): Promise<T> {
    const credential = await this.credential(job, purpose, SHORT_CREDENTIAL_MS);
    try {
      return await use(await this.tokenOf(credential.secret));
    } finally {
      await this.revoke(job, credential.id).catch(() => undefined);
    }
  }

  /** Revokes an attempt's credential. */
  async revoke(job: Pick<JobEntity, 'creatorId' | 'projectId'>, credentialId: string): Promise<void> {
    if (credentialId === '') return;
    const tokens = this.clients.of(TokenServiceDesc, 'governance');
    await tokens.revokeApiKey({ apiKeyId: credentialId }, await this.identity.callOptions({ onBehalfOf: job.creatorId, projectId: job.projectId }));
  }

  private async credential(job: JobEntity, name: string, lifetimeMs: number): Promise<{ id: string; secret: string }> {
    const tokens = this.clients.of(TokenServiceDesc, 'governance');
    const created = await tokens.createApiKey(
      { principalId: job.creatorId, name, projectIds: [job.projectId], expireTime: timestampFromMs(Date.now() + lifetimeMs) },
      await this.identity.callOptions({ onBehalfOf: job.creatorId, projectId: job.projectId }),
    );
    return { id: created.apiKey?.id ?? '', secret: created.secret };
  }

  private async tokenOf(apiKey: string): Promise<string> {
    return (await this.clients.of(TokenServiceDesc, 'governance').exchangeApiKey({ apiKey })).token;
  }
}
