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
  timeWindowGraceMs: z.coerce
    .number()
    .int()
    .min(0)
    .default(5000)
    .describe('how long after a time window ends it waits for late rows before it is closed without a later row; rows answered in a closed window are counted as late and left out'),
  windowCheckIntervalMs: z.coerce
    .number()
    .int()
    .min(100)
    .default(1000)
    .describe('how often the worker looks for time windows past their end and grace'),
  labelRetentionDays: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(30)
    .describe("days posted labels and monitors' predicted rows are kept for PostLabels to join; window performance already measured stays"),
  alertDeliveryPollMs: z.coerce
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(1000)
    .describe('how often the alert delivery worker looks for alert changes to deliver, in milliseconds; a change committed on its own replica wakes it at once'),
  alertDeliveryMaxAttempts: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .describe('tries to deliver an alert change to a notifier instance before it is given up on (kept with its last error)'),
  alertDeliveryBackoffMs: z.coerce
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .default(5000)
    .describe('the wait after the first failed delivery of an alert change, in milliseconds; each further wait doubles'),
  alertDeliveryBackoffMaxMs: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400_000)
    .default(600_000)
    .describe('the longest wait between tries to deliver an alert change, in milliseconds'),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type MonitoringConfig = ServiceConfigOf<typeof monitoringConfig>;
