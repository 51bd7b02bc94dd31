export { governanceService } from './governance.service';
