import type { Area } from '../area';
import { AdminPage } from './admin-page';
import { AuditPage } from './audit-page';
import { MembersPage } from './members-page';

export const governance: Area = {
  projectRoutes: [{ path: 'members', element: <MembersPage /> }],
  projectNav: [{ to: 'members', label: 'Members' }],
  orgRoutes: [
    { path: 'audit', element: <AuditPage /> },
    { path: 'admin', element: <AdminPage /> },
  ],
  orgNav: [
    { to: '/ui/audit', label: 'Audit' },
    { to: '/ui/admin', label: 'Admin' },
  ],
};
