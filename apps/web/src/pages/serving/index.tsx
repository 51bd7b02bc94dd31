import type { Area } from '../area';
import { EndpointPage } from './endpoint-page';
import { EndpointsPage } from './endpoints-page';

export const serving: Area = {
  projectRoutes: [
    { path: 'endpoints', element: <EndpointsPage /> },
    { path: 'endpoints/:endpointId', element: <EndpointPage /> },
  ],
  projectNav: [{ to: 'endpoints', label: 'Endpoints' }],
};
