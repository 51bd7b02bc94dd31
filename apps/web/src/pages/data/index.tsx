import type { Area } from '../area';
import { DatasetsPage } from './datasets-page';

export const data: Area = {
  projectRoutes: [{ path: 'datasets', element: <DatasetsPage /> }],
  projectNav: [{ to: 'datasets', label: 'Datasets' }],
};
