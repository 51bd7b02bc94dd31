import type { Area } from '../area';
import { ExperimentsPage } from './experiments-page';

export const tracking: Area = {
  projectRoutes: [{ path: 'experiments', element: <ExperimentsPage /> }],
  projectNav: [{ to: 'experiments', label: 'Experiments' }],
};
