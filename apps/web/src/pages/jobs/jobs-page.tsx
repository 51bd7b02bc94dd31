import { isFinalJob } from '@trellis/client';
import type { ListJobsResponseJson } from '@trellis/proto/trellis/compute/v1/job_service_pb';
import type { ListGrantsResponseJson } from '@trellis/proto/trellis/compute/v1/queue_service_pb';
import { useState } from 'react';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { enumLabel, formatTime } from '../../components/format';
import { Page } from '../../components/page';
import { useProjectId } from '../project-layout';
import { JOB_STATES, StateBadge } from './job-format';
import { usePolling } from './use-polling';

const PAGE = 100;

/** The project's jobs, newest first, by queue and state, with why each is where it is; it refreshes while any listed job may change. */
export function JobsPage() {
  const projectId = useProjectId();
  const [queue, setQueue] = useState('');
  const [state, setState] = useState('');
  const [pageSize, setPageSize] = useState(PAGE);
  const grants = useRpc<ListGrantsResponseJson>('trellis.compute.v1.QueueService/ListGrants', { projectId, pageSize: 1000 });
  const { data, error, loading, reload } = useRpc<ListJobsResponseJson>('trellis.compute.v1.JobService/ListJobs', { projectId, queue, state: state || 'JOB_STATE_UNSPECIFIED', pageSize });
  const jobs = data?.jobs ?? [];
  usePolling(reload, jobs.some((job) => !isFinalJob(job)), 3000);
  return (
    <Page
      title="Jobs"
      error={error ?? grants.error}
      loading={loading && !data}
      actions={
        <button type="button" className="secondary" onClick={reload}>
          Refresh
        </button>
      }
    >
      <div className="inline-form">
        <label htmlFor="jobs-queue">Queue</label>
        <select id="jobs-queue" value={queue} onChange={(event) => setQueue(event.target.value)}>
          <option value="">All queues</option>
          {(grants.data?.grants ?? []).map((grant) => (
            <option key={grant.queue} value={grant.queue}>
              {grant.queue}
            </option>
          ))}
        </select>
        <label htmlFor="jobs-state">State</label>
        <select id="jobs-state" value={state} onChange={(event) => setState(event.target.value)}>
          <option value="">Any state</option>
          {JOB_STATES.map((value) => (
            <option key={value} value={value}>
              {enumLabel(value, 'JOB_STATE_')}
            </option>
          ))}
        </select>
      </div>
      <DataTable
        label="Jobs"
        rows={jobs}
        rowKey={(job) => job.id ?? ''}
        columns={[
          {
            key: 'name',
            header: 'Job',
            cell: (job) => (
              <>
                <Link to={`/ui/p/${projectId}/jobs/${job.id}`}>
                  {job.spec?.name}
                </Link>{' '}
                <span className="muted">{job.id?.slice(0, 8)}</span>
              </>
            ),
          },
          { key: 'state', header: 'State', cell: (job) => <StateBadge state={job.state} /> },
          { key: 'queue', header: 'Queue', cell: (job) => <Link to={`/ui/p/${projectId}/queues/${job.queue}`}>{job.queue}</Link> },
          { key: 'submitted', header: 'Submitted', cell: (job) => formatTime(job.createTime) },
          { key: 'reason', header: 'Reason', cell: (job) => job.reason },
        ]}
        empty={queue || state ? 'No jobs match.' : 'No jobs yet: `trellis jobs submit -f job.yaml` submits one.'}
      />
      {data?.nextPageToken && pageSize < 1000 ? (
        <p>
          <button type="button" className="secondary" onClick={() => setPageSize((size) => Math.min(1000, size + PAGE))}>
            Show more
          </button>
        </p>
      ) : null}
    </Page>
  );
}
