import type { Area } from '../area';
import { DatasetPage } from './dataset-page';
import { DatasetsPage } from './datasets-page';
import { VersionPage } from './version-page';

/** Datasets: the project's list, a dataset's versions and their differences, a version's files, tags and column profiles. */
export const data: Area = {
  projectRoutes: [
    { path: 'datasets', element: <DatasetsPage /> },
    { path: 'datasets/:datasetId', element: <DatasetPage /> },
    { path: 'datasets/:datasetId/versions/:version', element: <VersionPage /> },
  ],
  projectNav: [{ to: 'datasets', label: 'Datasets' }],
};
