export { governanceService } from './governance.definition';
export { runAdminKeyCommand } from './tokens/admin-key.command';
export { issueServiceKeyAsOperator, runServiceKeyCommand } from './tokens/service-key.command';
