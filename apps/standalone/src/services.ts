import { governanceService } from '@trellis/governance';
import type { ServiceDefinition } from '@trellis/platform';

/**
 * Every service the standalone process runs, in start order. Adding a service lib is one line
 * here (and one `apps/<service>/src/main.ts` for distributed mode).
 */
export const SERVICES: readonly ServiceDefinition[] = [governanceService];
