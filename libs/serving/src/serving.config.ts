import type { ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';

/**
 * The serving service's own settings: the section `services.serving` of trellis.yaml, each key
 * also `TRELLIS_SERVING_<KEY>`. docs/configuration.md lists them from the descriptions here.
 */
export const servingConfig = z.object({
  maxEndpointsPerProject: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('how many endpoints one project may hold; CreateEndpoint answers RESOURCE_EXHAUSTED beyond it'),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type ServingConfig = ServiceConfigOf<typeof servingConfig>;
