import type { ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';

/**
 * The data service's own settings: the section `services.data` of trellis.yaml, each key
 * also `TRELLIS_DATA_<KEY>`. docs/configuration.md lists them from the descriptions here.
 */
export const dataConfig = z.object({
  maxDatasetsPerProject: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('how many datasets one project may hold; CreateDataset answers RESOURCE_EXHAUSTED beyond it'),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type DataConfig = ServiceConfigOf<typeof dataConfig>;
