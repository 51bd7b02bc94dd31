import type { ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';

/**
 * The monitoring service's own settings: the section `services.monitoring` of trellis.yaml, each key
 * also `TRELLIS_MONITORING_<KEY>`. docs/configuration.md lists them from the descriptions here.
 */
export const monitoringConfig = z.object({
  maxMonitorsPerProject: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('how many monitors one project may hold; CreateMonitor answers RESOURCE_EXHAUSTED beyond it'),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type MonitoringConfig = ServiceConfigOf<typeof monitoringConfig>;
