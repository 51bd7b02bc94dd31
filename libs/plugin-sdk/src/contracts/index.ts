import type { PluginKind } from '../kinds';
import type { ComputeBackend } from './compute';
import type { DriftDetector } from './drift';
import type { KeyManager } from './kms';
import type { Notifier } from './notifier';
import type { ModelRuntime } from './runtime';
import type { ObjectStore } from './storage';

export * from './compute';
export * from './drift';
export * from './kms';
export * from './notifier';
export * from './plugin-instance';
export * from './runtime';
export * from './storage';

/** The contract an instance of each kind fulfils: what `create()` returns. */
export interface PluginInstanceByKind {
  storage: ObjectStore;
  compute: ComputeBackend;
  drift: DriftDetector;
  runtime: ModelRuntime;
  kms: KeyManager;
  notifier: Notifier;
}

/**
 * The members an instance of each kind must have. The host checks them when `create()` returns, so
 * a plugin built against another contract fails at start rather than at its first call.
 */
export const REQUIRED_MEMBERS = {
  storage: [
    'put',
    'get',
    'head',
    'list',
    'delete',
    'createMultipartUpload',
    'uploadPart',
    'completeMultipartUpload',
    'abortMultipartUpload',
  ],
  compute: ['capacity', 'submit', 'status', 'list', 'watch', 'cancel', 'logs'],
  drift: ['columnTypes', 'summaries', 'measures', 'defaultThreshold', 'fit', 'score'],
  runtime: ['formats', 'load'],
  kms: ['generateDataKey', 'wrapKey', 'unwrapKey'],
  notifier: ['deliver'],
} as const satisfies { [K in PluginKind]: readonly (keyof PluginInstanceByKind[K])[] };
