export { governanceService } from './governance.definition';
export { issueAdminKey, runAdminKeyCommand } from './tokens/admin-key.command';
