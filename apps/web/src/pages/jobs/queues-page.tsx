import { amounts } from '@trellis/client';
import type { ListGrantsResponseJson, ListQueuesResponseJson } from '@trellis/proto/trellis/compute/v1/queue_service_pb';
import type { QueueJson } from '@trellis/proto/trellis/compute/v1/resources_pb';
import { Link } from 'react-router';
import { useRpc } from '../../api/use-rpc';
import { DataTable } from '../../components/data-table';
import { enumLabel } from '../../components/format';
import { Page } from '../../components/page';
import { useProjectId } from '../project-layout';

/** The org's queues, with the project's quota and usage on each it has a grant on. */
export function QueuesPage() {
  const projectId = useProjectId();
  const queues = useRpc<ListQueuesResponseJson>('trellis.compute.v1.QueueService/ListQueues', { pageSize: 1000 });
  const grants = useRpc<ListGrantsResponseJson>('trellis.compute.v1.QueueService/ListGrants', { projectId, pageSize: 1000 });
  const grantOf = new Map((grants.data?.grants ?? []).map((grant) => [grant.queue, grant]));
  return (
    <Page title="Queues" error={queues.error ?? grants.error} loading={queues.loading || grants.loading}>
      <DataTable
        label="Queues"
        rows={queues.data?.queues ?? []}
        rowKey={(queue) => queue.name ?? ''}
        columns={[
          { key: 'name', header: 'Queue', cell: (queue) => <Link to={`/ui/p/${projectId}/queues/${queue.name}`}>{queue.name}</Link> },
          { key: 'clusters', header: 'Clusters', cell: clusterNames },
          { key: 'cohort', header: 'Cohort', cell: (queue) => queue.cohort || queue.name },
          { key: 'placement', header: 'Placement', cell: (queue) => placementName(queue) },
          {
            key: 'quota',
            header: "This project's quota",
            cell: (queue) => {
              const grant = grantOf.get(queue.name);
              return grant ? amounts(grant.quotas?.map((quota) => ({ resource: quota.resource, amount: quota.nominal }))) : <span className="muted">no grant</span>;
            },
          },
          { key: 'usage', header: 'In use', cell: (queue) => amounts(grantOf.get(queue.name)?.usage) },
        ]}
        empty="No queues yet: an org admin creates them."
      />
    </Page>
  );
}

export function clusterNames(queue: QueueJson): string {
  return (queue.clusters ?? []).map((cluster) => cluster.name).join(', ') || (queue.cluster ?? '');
}

export function placementName(queue: QueueJson): string {
  return enumLabel(queue.placement && queue.placement !== 'PLACEMENT_POLICY_UNSPECIFIED' ? queue.placement : 'PLACEMENT_POLICY_FIRST_FIT', 'PLACEMENT_POLICY_');
}
