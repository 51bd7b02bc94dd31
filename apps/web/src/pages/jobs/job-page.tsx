import { isFinalJob, quantity, shellWords } from '@trellis/client';
import type { CancelJobResponseJson, GetJobResponseJson } from '@trellis/proto/trellis/compute/v1/job_service_pb';
import type { JobJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { ErrorBanner } from '../../components/error-banner';
import { enumLabel, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useCan, useProjectId } from '../project-layout';
import { JobLogs } from './job-logs';
import { StateBadge } from './job-format';
import { usePolling } from './use-polling';

/** A job: where it is and why, its run, its live log, every attempt, and its spec; editors may cancel it. */
export function JobPage() {
  const { jobId = '' } = useParams();
  const projectId = useProjectId();
  const canCancel = useCan('editor');
  const { data, error, loading, reload } = useRpc<GetJobResponseJson>('trellis.compute.v1.JobService/GetJob', { jobId });
  const job = data?.job;
  usePolling(reload, job !== undefined && !isFinalJob(job), 2000);
  return (
    <Page title={job ? `Job ${job.spec?.name ?? ''}` : 'Job'} error={error} loading={loading && !data} actions={job && canCancel && !isFinalJob(job) ? <CancelJob job={job} onCancelled={reload} /> : null}>
      {job ? (
        <>
          <Panel title="Status">
            <Fields
              fields={[
                ['State', <StateBadge key="state" state={job.state} />],
                ['Reason', job.reason],
                ['Queue', <Link key="queue" to={`/ui/p/${projectId}/queues/${job.queue}`}>{job.queue}</Link>],
                ['Priority', `${job.priority ?? 0}${job.spec?.priorityClass ? ` (${job.spec.priorityClass})` : ''}`],
                ['Borrowing quota', job.borrowing ? 'yes, lent by the cohort' : 'no'],
                ['Run', job.runId ? <Link key="run" to={`/ui/p/${projectId}/runs/${job.runId}`}>{job.runId}</Link> : undefined],
                ['Submitted by', job.creatorId],
                ['Submitted', formatTime(job.createTime)],
                ['Updated', formatTime(job.updateTime)],
                ['Job id', <code key="id">{job.id}</code>],
              ]}
            />
          </Panel>
          <Panel title="Logs">
            <JobLogs job={job} onEnd={reload} />
          </Panel>
          <Panel title="Attempts">
            <DataTable
              label="Attempts"
              rows={job.attempts ?? []}
              rowKey={(attempt) => String(attempt.number)}
              columns={[
                { key: 'number', header: '#', cell: (attempt) => attempt.number, align: 'right' },
                { key: 'state', header: 'State', cell: (attempt) => <StateBadge state={attempt.state} /> },
                { key: 'cluster', header: 'Cluster', cell: (attempt) => <span title={attempt.placement}>{attempt.cluster}</span> },
                { key: 'started', header: 'Started', cell: (attempt) => formatTime(attempt.startTime) },
                { key: 'finished', header: 'Finished', cell: (attempt) => formatTime(attempt.finishTime) },
                { key: 'exit', header: 'Exit code', cell: (attempt) => attempt.exitCode, align: 'right' },
                { key: 'reason', header: 'Reason', cell: (attempt) => attempt.reason },
              ]}
              empty="None yet: the job has not been admitted."
            />
          </Panel>
          <Panel title="Spec">
            <Fields fields={specFields(job)} />
          </Panel>
        </>
      ) : null}
    </Page>
  );
}

/** What the job runs and needs, as submitted, with the service's defaults where the spec left a field out. */
function specFields(job: JobJson): Array<[string, ReactNode]> {
  const spec = job.spec ?? {};
  const resources = spec.resources ?? {};
  return [
    ['Image', spec.image],
    ['Command', spec.command?.length ? <code key="command">{shellWords(spec.command)}</code> : undefined],
    ['CPU per replica', quantity('cpu', resources.cpuMillis ?? 1000)],
    ['Memory per replica', quantity('memory', resources.memoryBytes ?? 2 ** 30)],
    ['GPUs per replica', resources.gpus ? `${resources.gpus}${resources.gpuType || job.gpuType ? ` (${resources.gpuType || job.gpuType})` : ''}` : 'none'],
    ['Replicas', String(spec.replicas || 1)],
    ['Retries', spec.retries?.maxRetries ? `${spec.retries.maxRetries}, first after ${spec.retries.backoff ?? '10s'}` : 'none'],
    ['Timeout', spec.timeout ?? 'none'],
    ['Dataset inputs', (spec.inputs ?? []).map((input) => `${input.resolvedReference || input.reference} (${enumLabel(input.mode ?? 'DATASET_INPUT_MODE_DOWNLOAD', 'DATASET_INPUT_MODE_')})`).join(', ')],
    ['Experiment', spec.experimentId],
    ['Environment', Object.keys(spec.env ?? {}).join(', ')],
  ];
}

/** Cancel, asked twice: a queued job never runs, a running one is stopped. */
function CancelJob({ job, onCancelled }: { job: JobJson; onCancelled: () => void }) {
  const cancel = useMutation<CancelJobResponseJson>('trellis.compute.v1.JobService/CancelJob');
  const [confirming, setConfirming] = useState(false);
  return (
    <>
      {confirming ? (
        <span className="inline-form">
          <span>Stop this job?</span>
          <button
            type="button"
            className="danger"
            disabled={cancel.pending}
            onClick={async () => {
              if (await cancel.run({ jobId: job.id })) onCancelled();
              setConfirming(false);
            }}
          >
            Yes, cancel it
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </span>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Cancel job
        </button>
      )}
      <ErrorBanner error={cancel.error} />
    </>
  );
}
