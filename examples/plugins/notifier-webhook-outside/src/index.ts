import { definePlugin, z } from '@trellis/plugin-sdk';
import { WebhookNotifier } from './webhook-notifier';

/** The config of an instance: `notifier.<name>.config` in trellis.yaml, checked before `create()`. */
export const webhookConfig = z
  .object({
    /** Where alerts are posted, as JSON. */
    url: z.url(),
    /** How long a delivery may take before it counts as refused, in milliseconds. */
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  })
  .strict();

/** Posts each alert to a webhook; the receiver's 2xx answer is the acceptance the contract asks for. */
export default definePlugin({
  manifest: { kind: 'notifier', id: 'notifier-webhook-outside', apiVersion: 'v1' },
  configSchema: webhookConfig,
  create: (_ctx, config) => new WebhookNotifier(config.url, config.timeoutMs),
});

export { WebhookNotifier } from './webhook-notifier';
