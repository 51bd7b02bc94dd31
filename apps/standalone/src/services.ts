import { computeService } from '@trellis/compute';
import { dataService } from '@trellis/data';
import { gatewayEdge } from '@trellis/gateway';
import { governanceService } from '@trellis/governance';
import { monitoringService } from '@trellis/monitoring';
import type { EdgeDefinition, ServiceDefinition } from '@trellis/platform';
import type { AnyPlugin } from '@trellis/plugin-sdk';
import computeKubernetes from '@trellis/plugin-compute-kubernetes';
import computeLocal from '@trellis/plugin-compute-local';
import computeRay from '@trellis/plugin-compute-ray';
import computeSlurm from '@trellis/plugin-compute-slurm';
import driftStats from '@trellis/plugin-drift-stats';
import kmsLocal from '@trellis/plugin-kms-local';
import notifierWebhook from '@trellis/plugin-notifier-webhook';
import runtimeOnnx from '@trellis/plugin-runtime-onnx';
import storageFs from '@trellis/plugin-storage-fs';
import storageS3 from '@trellis/plugin-storage-s3';
import { registryService } from '@trellis/registry';
import { servingService } from '@trellis/serving';
import { trackingService } from '@trellis/tracking';

/**
 * Every service the standalone process runs, in start order. Adding a service lib is one line
 * here (and one `apps/<service>/src/main.ts` for distributed mode).
 */
export const SERVICES: readonly ServiceDefinition[] = [governanceService, trackingService, registryService, dataService, computeService, servingService, monitoringService];

/**
 * Plugins built into the program, so the embedded defaults (artifacts on disk, audit checkpoints
 * signed with a local key, jobs as local processes, drift tests) need no configuration, and a storage
 * instance on S3, a Slurm, Kubernetes or Ray cluster, an ONNX serving runtime or a webhook notifier
 * needs only its config.
 */
export const BUILT_IN_PLUGINS: readonly AnyPlugin[] = [storageFs, storageS3, kmsLocal, computeLocal, computeKubernetes, computeSlurm, computeRay, runtimeOnnx, driftStats, notifierWebhook];

/** The edges the standalone process serves in front of its services: the HTTP gateway. */
export const EDGES: readonly EdgeDefinition[] = [gatewayEdge];
