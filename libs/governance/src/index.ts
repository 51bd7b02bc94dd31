export { governanceService } from './governance.service';
export { issueAdminKey, runAdminKeyCommand } from './tokens/admin-key';
