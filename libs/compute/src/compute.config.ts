import type { ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';

/**
 * The compute service's own settings: the section `services.compute` of trellis.yaml, each key
 * also `TRELLIS_COMPUTE_<KEY>`. docs/configuration.md lists them from the descriptions here.
 */
export const computeConfig = z.object({
  maxQueuesPerProject: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('how many queues one project may hold; CreateQueue answers RESOURCE_EXHAUSTED beyond it'),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type ComputeConfig = ServiceConfigOf<typeof computeConfig>;
