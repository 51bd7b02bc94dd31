import { API_KEY_PATTERN, INSTANCE_NAME_PATTERN, type ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';
import { CHECKPOINT_KMS_INSTANCE, SIGNING_KEY_KMS_INSTANCE } from './kms-instances';

/**
 * A setting that names a kms instance, `fallback` (governance's own default instance) unless set.
 * Before instances had names it held the instance itself (`{ plugin, config }`): that form is
 * refused with where it goes now.
 */
function kmsInstanceName(key: string, fallback: string) {
  return z
    .string({
      error: (issue) =>
        typeof issue.input === 'object' && issue.input !== null
          ? `names a kms instance now: move { plugin, config } to the section kms.${fallback} and remove services.governance.${key}, or to kms.<name> and set services.governance.${key}: <name>`
          : undefined,
    })
    .regex(INSTANCE_NAME_PATTERN, 'must be the name of a kms instance: 1 to 64 lowercase letters, digits, ., _ and -')
    .default(fallback);
}

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
  checkpointKms: kmsInstanceName('checkpointKms', CHECKPOINT_KMS_INSTANCE)
    .describe(
      `the kms instance that signs audit checkpoints, by name: governance's own \`${CHECKPOINT_KMS_INSTANCE}\` (kms-local, key file \`<dataDir>/keys/audit-checkpoint.key\`, replaced by a section \`kms.${CHECKPOINT_KMS_INSTANCE}\` when the config declares one) or any instance of the \`kms\` section; its plugin must compute MACs (kms-local does)`,
    ),
  signingKeyKms: kmsInstanceName('signingKeyKms', SIGNING_KEY_KMS_INSTANCE).describe(
    `the kms instance that wraps the token signing keys in governance's database, by name: governance's own \`${SIGNING_KEY_KMS_INSTANCE}\` (kms-local, key file \`<dataDir>/keys/signing-keys.key\`, replaced by a section \`kms.${SIGNING_KEY_KMS_INSTANCE}\` when the config declares one) or any instance of the \`kms\` section`,
  ),
});

/** Governance's settings as `@Inject(SERVICE_CONFIG)` gives them. */
export type GovernanceConfig = ServiceConfigOf<typeof governanceConfig>;
