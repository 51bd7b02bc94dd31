import type { Area } from '../area';
import { ApprovalsPage } from './approvals-page';
import { ModelPage } from './model-page';
import { ModelsPage } from './models-page';
import { VersionPage } from './version-page';

export const registry: Area = {
  projectRoutes: [
    { path: 'models', element: <ModelsPage /> },
    { path: 'models/:modelName', element: <ModelPage /> },
    { path: 'models/:modelName/versions/:version', element: <VersionPage /> },
    { path: 'approvals', element: <ApprovalsPage /> },
  ],
  projectNav: [
    { to: 'models', label: 'Models' },
    { to: 'approvals', label: 'Approvals' },
  ],
};
