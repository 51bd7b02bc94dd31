import { definePlugin, secret, z } from '@trellis/plugin-sdk';
import { SIGNATURE_HEADER } from './signature';
import { DELIVERY_HEADER, WebhookNotifier } from './webhook-notifier';

const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', SIGNATURE_HEADER, DELIVERY_HEADER]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const backoffConfig = z
  .object({
    /** The wait after the first failed try, in milliseconds. */
    initialMs: z.number().int().min(1, 'backoff.initialMs is at least 1').max(60_000, 'backoff.initialMs is at most 60000').default(500),
    /** The longest wait between tries, also the cap on a receiver's Retry-After, in milliseconds. */
    maxMs: z.number().int().min(1, 'backoff.maxMs is at least 1').max(600_000, 'backoff.maxMs is at most 600000').default(30_000),
    /** What each wait is multiplied by for the next. */
    multiplier: z.number().min(1, 'backoff.multiplier is at least 1').max(10, 'backoff.multiplier is at most 10').default(2),
    /** The share of each wait (0 to 1) taken off at random, so that senders do not retry in step; 0 makes waits exact. */
    jitter: z.number().min(0, 'backoff.jitter is between 0 and 1').max(1, 'backoff.jitter is between 0 and 1').default(0.2),
  })
  .strict()
  .refine((backoff) => backoff.maxMs >= backoff.initialMs, { message: 'backoff.maxMs must be at least backoff.initialMs', path: ['maxMs'] });

/** The config of a notifier-webhook instance. */
export const notifierWebhookConfig = z
  .object({
    /** Where alerts are posted: an http or https URL. */
    url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
    /** The key each delivery is signed with (HMAC-SHA256), as a secret reference (`env:NAME`, `file:/path`); the receiver holds the same. */
    secret: secret(z.string().min(16, 'secret must have at least 16 characters')),
    /** How long one try may take before it counts as failed, in milliseconds. */
    timeoutMs: z.number().int().min(100, 'timeoutMs is at least 100').max(60_000, 'timeoutMs is at most 60000').default(10_000),
    /** How many tries an alert gets before it becomes a dead letter. */
    maxAttempts: z.number().int().min(1, 'maxAttempts is at least 1').max(20, 'maxAttempts is at most 20').default(5),
    /** The waits between tries. */
    backoff: backoffConfig.prefault({}),
    /** Headers sent with every delivery (routing keys, a tenant); plain config, so not for secrets. */
    headers: z
      .record(z.string(), z.string().max(1024, 'a header value is at most 1024 characters'))
      .superRefine((headers, ctx) => {
        for (const name of Object.keys(headers)) {
          if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: "a header name is letters, digits and !#$%&'*+.^_`|~-" });
          if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: `headers may not set ${[...RESERVED_HEADERS].join(', ')}: the notifier sets them` });
        }
      })
      .default({}),
  })
  .strict();

/** A notifier-webhook instance's config, as checked. */
export type NotifierWebhookConfig = z.infer<typeof notifierWebhookConfig>;

/** Delivers each alert as a JSON POST signed with HMAC-SHA256, retried with backoff, kept as a dead letter when refused. */
export const notifierWebhookPlugin = definePlugin({
  manifest: { kind: 'notifier', id: 'notifier-webhook', apiVersion: 'v1' },
  configSchema: notifierWebhookConfig,
  create: (ctx, config) => new WebhookNotifier({ ...config, dataDir: ctx.dataDir, logger: ctx.logger, signal: ctx.signal }),
});
