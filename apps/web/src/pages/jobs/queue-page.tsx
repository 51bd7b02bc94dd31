import { GatewayRequestError, inAdmissionOrder, quantity } from '@trellis/client';
import type { ListJobsResponseJson } from '@trellis/proto/trellis/compute/v1/job_service_pb';
import type { GetGrantResponseJson, GetQueueResponseJson } from '@trellis/proto/trellis/compute/v1/queue_service_pb';
import { useCallback } from 'react';
import { Link, useParams } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { enumLabel, formatTime } from '../../components/format';
import { Fields, Page, Panel } from '../../components/page';
import { useProjectId } from '../project-layout';
import { usageOf } from './job-format';
import { clusterNames, placementName } from './queues-page';
import { usePolling } from './use-polling';

/**
 * A queue as the project sees it: its clusters and policies, the project's quota there and what it
 * uses, and its pending jobs in the order admission takes them, each with why it waits.
 */
export function QueuePage() {
  const { queueName = '' } = useParams();
  const projectId = useProjectId();
  const queue = useRpc<GetQueueResponseJson>('trellis.compute.v1.QueueService/GetQueue', { name: queueName });
  const grant = useRpc<GetGrantResponseJson>('trellis.compute.v1.QueueService/GetGrant', { queue: queueName, projectId });
  const pending = useRpc<ListJobsResponseJson>('trellis.compute.v1.JobService/ListJobs', { projectId, queue: queueName, state: 'JOB_STATE_QUEUED', pageSize: 1000 });
  const noGrant = grant.error instanceof GatewayRequestError && grant.error.reason === 'GRANT_NOT_FOUND';
  const { reload: reloadGrant } = grant;
  const { reload: reloadPending } = pending;
  const refresh = useCallback(() => {
    reloadGrant();
    reloadPending();
  }, [reloadGrant, reloadPending]);
  usePolling(refresh, true, 3000);
  const jobs = inAdmissionOrder(pending.data?.jobs ?? []);
  const { preemption } = queue.data?.queue ?? {};
  return (
    <Page
      title={`Queue ${queueName}`}
      error={queue.error ?? pending.error ?? (noGrant ? undefined : grant.error)}
      loading={queue.loading && !queue.data}
      actions={
        <button type="button" className="secondary" onClick={refresh}>
          Refresh
        </button>
      }
    >
      {queue.data?.queue ? (
        <Panel title="Queue">
          <Fields
            fields={[
              ['Clusters', clusterNames(queue.data.queue)],
              ['Placement', placementName(queue.data.queue)],
              ['Cohort', queue.data.queue.cohort || queueName],
              ['Reclaims from cohort borrowers', enumLabel(preemption?.reclaimWithinCohort && preemption.reclaimWithinCohort !== 'RECLAIM_WITHIN_COHORT_UNSPECIFIED' ? preemption.reclaimWithinCohort : 'RECLAIM_WITHIN_COHORT_NEVER', 'RECLAIM_WITHIN_COHORT_')],
              ['Preempts within the queue', enumLabel(preemption?.withinQueue && preemption.withinQueue !== 'WITHIN_QUEUE_UNSPECIFIED' ? preemption.withinQueue : 'WITHIN_QUEUE_NEVER', 'WITHIN_QUEUE_')],
              ['Description', queue.data.queue.description],
            ]}
          />
        </Panel>
      ) : null}
      <Panel title="This project's quota">
        {noGrant ? (
          <p className="muted">The project has no grant on this queue: its jobs here wait until an org admin gives it one.</p>
        ) : (
          <DataTable
            label="Quota and usage"
            rows={grant.data?.grant?.quotas ?? []}
            rowKey={(quota) => quota.resource ?? ''}
            columns={[
              { key: 'resource', header: 'Resource', cell: (quota) => quota.resource },
              { key: 'nominal', header: 'Quota', cell: (quota) => quantity(quota.resource, quota.nominal), align: 'right' },
              { key: 'borrow', header: 'May borrow', cell: (quota) => (quota.borrowingLimit === undefined ? 'no limit' : quantity(quota.resource, quota.borrowingLimit)), align: 'right' },
              { key: 'lend', header: 'May lend', cell: (quota) => (quota.lendingLimit === undefined ? 'all' : quantity(quota.resource, quota.lendingLimit)), align: 'right' },
              { key: 'usage', header: 'In use', cell: (quota) => (grant.data?.grant ? usageOf(grant.data.grant, quota.resource) : ''), align: 'right' },
            ]}
            empty="No quota: the project may only borrow here."
          />
        )}
      </Panel>
      <Panel title="Pending jobs">
        <p className="muted">This project&apos;s jobs waiting on the queue, in the order admission takes them: higher priority first, then the earlier submitted.</p>
        <DataTable
          label="Pending jobs"
          rows={jobs}
          rowKey={(job) => job.id ?? ''}
          columns={[
            { key: 'position', header: 'Position', cell: (job) => jobs.indexOf(job) + 1, align: 'right' },
            { key: 'job', header: 'Job', cell: (job) => <Link to={`/ui/p/${projectId}/jobs/${job.id}`}>{job.spec?.name}</Link> },
            { key: 'priority', header: 'Priority', cell: (job) => `${job.priority ?? 0}${job.spec?.priorityClass ? ` (${job.spec.priorityClass})` : ''}`, align: 'right' },
            { key: 'submitted', header: 'Submitted', cell: (job) => formatTime(job.createTime) },
            { key: 'reason', header: 'Why it waits', cell: (job) => job.reason },
          ]}
          empty="No job of this project waits here."
        />
      </Panel>
    </Page>
  );
}
