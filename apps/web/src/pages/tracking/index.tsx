import type { Area } from '../area';
import { ComparePage } from './compare-page';
import { ExperimentsPage } from './experiments-page';
import { RunPage } from './run-page';
import { RunsPage } from './runs-page';
import './tracking.css';

export const tracking: Area = {
  projectRoutes: [
    { path: 'experiments', element: <ExperimentsPage /> },
    { path: 'experiments/:experimentId', element: <RunsPage /> },
    { path: 'runs/:runId', element: <RunPage /> },
    { path: 'compare', element: <ComparePage /> },
  ],
  projectNav: [{ to: 'experiments', label: 'Experiments' }],
};
