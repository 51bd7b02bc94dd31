import type { Area } from '../area';
import { ModelsPage } from './models-page';

export const registry: Area = {
  projectRoutes: [{ path: 'models', element: <ModelsPage /> }],
  projectNav: [{ to: 'models', label: 'Models' }],
};
