import type { Area } from '../area';
import { JobPage } from './job-page';
import { JobsPage } from './jobs-page';
import { QueuePage } from './queue-page';
import { QueuesPage } from './queues-page';

/** Jobs: the project's jobs, each with its live log, and the queues with why jobs wait there. */
export const jobs: Area = {
  projectRoutes: [
    { path: 'jobs', element: <JobsPage /> },
    { path: 'jobs/:jobId', element: <JobPage /> },
    { path: 'queues', element: <QueuesPage /> },
    { path: 'queues/:queueName', element: <QueuePage /> },
  ],
  projectNav: [
    { to: 'jobs', label: 'Jobs' },
    { to: 'queues', label: 'Queues' },
  ],
};
