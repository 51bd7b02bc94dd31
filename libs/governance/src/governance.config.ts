import { API_KEY_PATTERN, type ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';

/**
 * Governance's own settings: the section `services.governance` of trellis.yaml, each key also
 * `TRELLIS_GOVERNANCE_<KEY>`. docs/configuration.md lists them from the descriptions here.
 */
export const governanceConfig = z.object({
  adminKey: z
    .string()
    .regex(API_KEY_PATTERN, 'must be an API key as governance issues them: trellis_<16 hex>_<43 base64url>')
    .optional()
    .describe(
      "the bootstrap admin's API key on first start, instead of a generated (printed) one; ignored once the admin exists (`npm run admin-key` issues a new key)",
    ),
  exchangesPerKeyPerSecond: z.coerce
    .number()
    .positive('must be a positive number')
    .default(5)
    .describe('key exchanges per API key per second (bursts of four times as many)'),
  exchangesPerAddressPerSecond: z.coerce
    .number()
    .positive('must be a positive number')
    .default(20)
    .describe(
      'rejected key exchanges per client address per second (bursts of four times as many); a good key is never refused for it, so clients behind one gateway cannot lock each other out',
    ),
  checkpointEveryRecords: z.coerce
    .number()
    .int()
    .min(1, 'must be a positive number of records')
    .default(1000)
    .describe('sign the head of the audit chain once this many records were appended since the last checkpoint'),
  checkpointEverySeconds: z.coerce
    .number()
    .int()
    .min(1, 'must be a positive number of seconds')
    .default(60)
    .describe('sign the head this often while records keep arriving'),
  checkpointKms: z
    .object({ plugin: z.string().min(1), config: z.unknown().default({}) })
    .strict()
    .optional()
    .describe('the KMS plugin instance that signs audit checkpoints: `{ plugin: <plugin id>, config: {...} }`; its plugin must compute MACs (kms-local does)')
    .meta({ defaultText: 'kms-local, key file `<dataDir>/keys/audit-checkpoint.key`' }),
  signingKeyKms: z
    .object({ plugin: z.string().min(1), config: z.unknown().default({}) })
    .strict()
    .optional()
    .describe("the KMS plugin instance that wraps the token signing keys in governance's database: `{ plugin: <plugin id>, config: {...} }`")
    .meta({ defaultText: 'kms-local, key file `<dataDir>/keys/signing-keys.key`' }),
});

/** Governance's settings as `@Inject(SERVICE_CONFIG)` gives them. */
export type GovernanceConfig = ServiceConfigOf<typeof governanceConfig>;
