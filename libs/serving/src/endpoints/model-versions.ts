import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { type Caller, excerpt, FailedPreconditionError, forwardAs, NotFoundError, PermissionDeniedError, ServiceClients, UnavailableError } from '@trellis/platform';
import { ModelVersionStatus, RegistryServiceDesc, type ModelVersion } from '@trellis/proto';
import { parseModelRef } from './model-ref';

/** A registry version as a revision records it, resolved when it is deployed. */
export interface ResolvedModel {
  modelRef: string;
  modelName: string;
  modelVersion: number;
  /** The alias the reference named; empty for one by number. */
  resolvedAlias: string;
  runId: string;
  artifactUri: string;
  modelFormat: string;
}

/**
 * Resolves model references through the registry's gRPC API with the caller's own credential, so
 * a caller deploys only versions it may read, and an alias is read once, at deploy time.
 */
@Injectable()
export class ModelVersions {
  constructor(private readonly clients: ServiceClients) {}

  /**
   * The version `reference` names in the project. NOT_FOUND (MODEL_VERSION_NOT_FOUND) when the
   * registry has none the caller may read; FAILED_PRECONDITION while its files are not in place.
   */
  async resolve(caller: Caller, projectId: string, reference: string, field = 'model'): Promise<ResolvedModel> {
    const ref = parseModelRef(reference, field);
    const registry = this.clients.of(RegistryServiceDesc, 'registry');
    let version: ModelVersion | undefined;
    try {
      version =
        ref.alias === undefined
          ? (await registry.getVersion({ projectId, modelName: ref.modelName, version: BigInt(ref.version) }, forwardAs(caller))).version
          : (await registry.getVersionByAlias({ projectId, modelName: ref.modelName, alias: ref.alias }, forwardAs(caller))).version;
    } catch (error) {
      const { code, details } = error as { code?: number; details?: string };
      if (code === status.NOT_FOUND) {
        throw new NotFoundError(`${field}: ${excerpt(reference)} names nothing in the registry of project ${projectId}: ${details}`, { reason: 'MODEL_VERSION_NOT_FOUND' });
      }
      if (code === status.PERMISSION_DENIED) throw new PermissionDeniedError(`${field}: the registry refused to show you ${excerpt(reference)}: ${details}`);
      throw new UnavailableError(`the registry could not resolve ${field} now: ${details ?? (error as Error).message}; deploy again`);
    }
    if (!version) throw new UnavailableError(`the registry answered no version for ${field}; deploy again`);
    const named = `${excerpt(reference)} (version ${version.version})`;
    if (version.status === ModelVersionStatus.PENDING) {
      throw new FailedPreconditionError(`${field}: the files of ${named} are still being copied; deploy it once the registry has them`, { reason: 'MODEL_VERSION_NOT_READY' });
    }
    if (version.status === ModelVersionStatus.FAILED) {
      throw new FailedPreconditionError(`${field}: ${named} failed in the registry: ${excerpt(version.statusMessage)}`, { reason: 'MODEL_VERSION_FAILED' });
    }
    return {
      modelRef: reference,
      modelName: version.modelName,
      modelVersion: Number(version.version),
      resolvedAlias: ref.alias ?? '',
      runId: version.runId,
      artifactUri: version.storageUri || version.source,
      modelFormat: version.format,
    };
  }
}
