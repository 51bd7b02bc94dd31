import type { Area } from '../area';
import { AlertsPage } from './alerts-page';
import { MonitorPage } from './monitor-page';
import { MonitorsPage } from './monitors-page';

export const monitoring: Area = {
  projectRoutes: [
    { path: 'monitors', element: <MonitorsPage /> },
    { path: 'monitors/:monitorId', element: <MonitorPage /> },
    { path: 'alerts', element: <AlertsPage /> },
  ],
  projectNav: [
    { to: 'monitors', label: 'Monitoring' },
    { to: 'alerts', label: 'Alerts' },
  ],
};
