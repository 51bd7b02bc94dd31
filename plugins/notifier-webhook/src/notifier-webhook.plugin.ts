import { definePlugin, secret, z } from '@trellis/plugin-sdk';
import { WebhookNotifier } from './webhook-notifier';

/** The config of a notifier-webhook instance. */
export const notifierWebhookConfig = z
  .object({
    /** Where alerts are posted: an http or https URL. */
    url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
    /** A token sent as `Authorization: Bearer <token>`, as a secret reference (`env:NAME`, `file:/path`). */
    token: secret().optional(),
    /** How long one delivery may take before it fails (and the host retries), in milliseconds. */
    timeoutMs: z.number().int().min(100, 'timeoutMs is at least 100').max(60_000, 'timeoutMs is at most 60000').default(10_000),
  })
  .strict();

/** Delivers each alert as a JSON POST to a URL. */
export const notifierWebhookPlugin = definePlugin({
  manifest: { kind: 'notifier', id: 'notifier-webhook', apiVersion: 'v1' },
  configSchema: notifierWebhookConfig,
  create: (_ctx, config) => new WebhookNotifier(config),
});
