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
  httpPort: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8000)
    .describe("port of the Open Inference Protocol's REST API (`/v2/...`), on the process's host; 0 picks a free one (docs/serving.md)"),
  modelCacheDir: z
    .string()
    .default('')
    .describe("where each replica keeps the files of the revisions it serves, fetched from the registry, one directory per revision")
    .meta({ defaultText: '`<dataDir>/serving/models`' }),
  runtimeModules: z
    .string()
    .default('')
    .describe(
      'where the worker thread of a runtime plugin imports it from, as `<plugin id>=<module path>` pairs separated by commas; a plugin not named here is imported as the package `@trellis/plugin-<id>`',
    ),
  reconcileIntervalMs: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe("how often each replica loads the revisions it does not hold yet (deployed through another replica), unloads those of deleted endpoints, and rereads the endpoints it holds (a revision another replica loaded or failed to load)"),
  rolloutIntervalMs: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe("how often the rollout worker judges the canaries of progressive rollouts against their guards (an alias move wakes it at once), and how often every replica reports its counts of the canaries' requests for it to judge; docs/serving.md#progressive-rollout"),
  predictionLogShare: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('share of inference requests logged (0 to 1) on endpoints that have no share of their own (given to CreateEndpoint as `prediction_log_share`, or set with SetPredictionLogging); docs/serving.md, "Prediction logs"'),
  predictionLogBufferSize: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe(
      'most logged predictions each replica holds while the event bus takes them (as packs of predictionLogPackSize), and most waiting to be stored for tracing; beyond it they are dropped and counted (trellis_serving_predictions_dropped_total, trellis_serving_prediction_traces_dropped_total), never waited for',
    ),
  predictionLogPackSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(256)
    .describe('most logged predictions one event on trellis.serving.v1.predictions.logged carries (a pack holds about 512 KiB of tensors at most, whatever this says)'),
  predictionLogPackLingerMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(20)
    .describe('how long a logged prediction waits for others to fill its pack before the pack is published'),
  predictionLogMaxTensorBytes: z.coerce
    .number()
    .int()
    .min(0)
    .default(65_536)
    .describe("largest tensor a prediction log carries, in raw bytes; a larger one is logged with its name, datatype and shape and `truncated`, without its data"),
  predictionRetentionDays: z.coerce
    .number()
    .min(0.001)
    .default(30)
    .describe('how long logged predictions stay traceable (TracePrediction); older ones are deleted hourly'),
  predictionLogRefreshMs: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe("how often each replica rereads endpoints' logging shares set through another replica"),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type ServingConfig = ServiceConfigOf<typeof servingConfig>;
