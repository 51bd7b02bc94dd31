import type { Area } from '../area';
import { JobsPage } from './jobs-page';

export const jobs: Area = {
  projectRoutes: [{ path: 'jobs', element: <JobsPage /> }],
  projectNav: [{ to: 'jobs', label: 'Jobs' }],
};
