import { secret, z } from '@trellis/plugin-sdk';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const RESOURCE_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

const labelMap = (what: string) =>
  z.record(z.string().regex(LABEL_KEY, `${what}: keys are Kubernetes label keys ([prefix/]name)`), z.string().regex(LABEL_VALUE, `${what}: values are Kubernetes label values (at most 63 characters)`));

const toleration = z
  .object({
    key: z.string().regex(LABEL_KEY, 'tolerations: key is a taint key').optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().regex(LABEL_VALUE).optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  })
  .strict()
  .refine((t) => t.operator !== 'Exists' || t.value === undefined, 'tolerations: an Exists toleration has no value');

/** How a job asks for GPUs of one type: where they are and what each has. */
const gpuType = z
  .object({
    /** Node labels that pick nodes with this type (default: `{ <gpuTypeLabel>: <the type's name> }`). */
    nodeSelector: labelMap('gpuTypes.nodeSelector').optional(),
    /** Tolerations for those nodes' taints (default: `gpuTolerations`). */
    tolerations: z.array(toleration).max(16).optional(),
    /** The extended resource these GPUs are counted in (default: `gpuResource`; a MIG profile such as nvidia.com/mig-1g.10gb). */
    resource: z.string().regex(RESOURCE_NAME, 'gpuTypes.resource: an extended resource name').optional(),
    /** Memory of one such GPU, in bytes (default: the nodes' `gpuMemoryLabel`). */
    memoryBytes: z.number().int().positive().optional(),
  })
  .strict();

/** The config of a compute-kubernetes instance: one namespace of one cluster. */
export const computeKubernetesConfig = z
  .object({
    /**
     * A kubeconfig (its YAML), a secret reference such as `file:/home/trellis/.kube/config`. Left
     * out: the in-cluster service account (Trellis running in a pod of the cluster).
     */
    kubeconfig: secret().optional(),
    /** The kubeconfig context to use (default: its current-context). */
    context: z.string().min(1).max(253).optional(),
    /** The namespace Jobs run in. */
    namespace: z.string().regex(DNS_LABEL, 'namespace: a DNS label (lowercase letters, digits, -)').max(63).default('default'),
    /** The image a job that gives only a command runs in; without it such jobs cannot run here. */
    defaultImage: z.string().min(1).max(512).optional(),
    /** The extended resource GPUs are requested as. */
    gpuResource: z.string().regex(RESOURCE_NAME, 'gpuResource: an extended resource name such as nvidia.com/gpu').default('nvidia.com/gpu'),
    /** The node label naming a node's GPU type (written by NVIDIA's GPU feature discovery). */
    gpuTypeLabel: z.string().regex(LABEL_KEY, 'gpuTypeLabel: a label key').default('nvidia.com/gpu.product'),
    /** The node label with the memory of one GPU in MiB (GPU feature discovery's), used where gpuTypes gives no memoryBytes. */
    gpuMemoryLabel: z.string().regex(LABEL_KEY, 'gpuMemoryLabel: a label key').default('nvidia.com/gpu.memory'),
    /** Tolerations every GPU job gets (GPU nodes are often tainted nvidia.com/gpu:NoSchedule). */
    gpuTolerations: z.array(toleration).max(16).default([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]),
    /** GPU types by the name jobs use (`resources.gpus.type`) and capacity reports. */
    gpuTypes: z.record(z.string().regex(LABEL_VALUE).min(1, 'gpuTypes: a type name is not empty'), gpuType).default({}),
    /** Kueue: Jobs get the LocalQueue's label and are created suspended, for Kueue to admit. */
    kueue: z
      .object({
        /** The LocalQueue (in `namespace`) jobs are submitted to. */
        queueName: z.string().regex(DNS_LABEL, 'kueue.queueName: a LocalQueue name').max(63),
        /** A WorkloadPriorityClass for the jobs. */
        priorityClass: z.string().regex(DNS_LABEL).max(63).optional(),
      })
      .strict()
      .optional(),
    /** The port replicas meet on (MASTER_PORT), through the job's headless Service. */
    masterPort: z.number().int().min(1).max(65535).default(29500),
    /**
     * Seconds Kubernetes keeps a finished Job (and its pods, Service) before deleting it; the job's
     * status, logs and idempotency key last as long.
     */
    ttlSecondsAfterFinished: z.number().int().min(0).max(30 * 86400).default(7 * 86400),
    /** How long a failed watch waits before it tries again, in milliseconds. */
    retryDelayMs: z.number().int().min(10).max(60_000).default(1000),
  })
  .strict();

export type ComputeKubernetesConfig = z.infer<typeof computeKubernetesConfig>;
