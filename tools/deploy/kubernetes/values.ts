import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** The repository's root, where deploy/ is. */
export const ROOT = join(__dirname, '..', '..', '..');
/** The values the committed manifests are generated from. */
export const VALUES_FILE = join(ROOT, 'deploy/kubernetes/values.yaml');

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and -');
const quantity = z.string().regex(/^[0-9.]+(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'must be a Kubernetes quantity (250m, 512Mi, 2)');
const secretKey = z.object({ secretName: name, key: z.string().min(1) }).strict();

const program = z
  .object({
    replicas: z.number().int().min(1),
    /** CPU and memory the scheduler reserves; memoryLimit is where the kernel stops it (Node's heap grows to fit). */
    cpu: quantity,
    memory: quantity,
    memoryLimit: quantity,
    /** This program's image tag instead of image.tag: a staged rollout moves one program at a time. */
    tag: z.string().min(1).optional(),
    /** The service's own database (TRELLIS_<SERVICE>_DATABASE_URL) instead of trellis_<service> on the shared server. */
    database: secretKey.optional(),
  })
  .strict();

/** deploy/kubernetes/values.yaml: what differs between installations of the generated manifests. */
export const valuesSchema = z
  .object({
    namespace: name,
    image: z.object({ registry: z.string().min(1), tag: z.string().min(1), pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']) }).strict(),
    database: secretKey,
    nats: z.object({ url: z.string().regex(/^nats:\/\//), deploy: z.boolean(), image: z.string().min(1), storage: quantity, maxFileStore: quantity }).strict(),
    data: z.object({ claimName: name, create: z.boolean(), size: quantity, storageClassName: z.string() }).strict(),
    serviceKeys: z.object({ secretName: name }).strict(),
    shutdown: z.object({ endpointsSeconds: z.number().int().min(0), drainSeconds: z.number().int().min(1) }).strict(),
    programs: z.record(z.string(), program),
  })
  .strict();

export type Values = z.infer<typeof valuesSchema>;
export type ProgramValues = z.infer<typeof program>;

/** The values in `file`, checked; a bad one throws naming its path. */
export function loadValues(file = VALUES_FILE): Values {
  const parsed = valuesSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is invalid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
