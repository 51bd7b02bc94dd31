import type { Area } from '../area';
import { MonitorsPage } from './monitors-page';

export const monitoring: Area = {
  projectRoutes: [{ path: 'monitors', element: <MonitorsPage /> }],
  projectNav: [{ to: 'monitors', label: 'Monitoring' }],
};
