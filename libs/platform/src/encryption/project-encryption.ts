import { status } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { KeyManager } from '@trellis/plugin-sdk';
import { IdentityServiceDesc } from '@trellis/proto';
import { resourceName } from '../audit/resource-name';
import type { Caller } from '../auth/caller';
import { UnavailableError } from '../errors';
import { DependencyUnavailableError, forwardAs, ServiceClients } from '../grpc/service-clients';
import type { Logger } from '../ops/logger';
import { InjectPluginInstances, PluginInstances } from '../plugins';
import { LOGGER } from '../service/kit.module';

/** How long a project's setting is reused before governance is asked again. */
const SETTING_CACHE_MS = 5_000;

/**
 * Encryption at rest for a service that stores a project's objects (it declares the `kms` plugin
 * kind): whether the project's new objects are encrypted, and through which of the service's kms
 * instances. Governance's `GetProject` says whether the project asks (`encrypt_at_rest`), asked
 * with the caller's token when a run or version is created and reused for a few seconds; the
 * instance is the project's choice of kind `kms`, `default` until it chooses. The answer is
 * recorded with the run or version, which keeps it for life: changing the flag affects new runs
 * and versions only.
 */
@Injectable()
export class ProjectEncryption {
  private readonly cache = new Map<string, { encrypt: boolean; until: number }>();
  private warnedUnconfigured = false;

  constructor(
    private readonly clients: ServiceClients,
    @InjectPluginInstances('kms') private readonly kms: PluginInstances<'kms'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The kms instance that encrypts what `projectId` stores from now on, or null when the project
   * does not ask for encryption at rest; `from.encrypted` says the objects are copies of encrypted
   * ones (a run's artifacts), which stay encrypted whatever the project asks now. Fails with
   * UNAVAILABLE when governance does not answer, or `KMS_INSTANCE_MISSING` when the service has no
   * such instance (its configuration lacks it), rather than store in the clear what should be
   * encrypted.
   */
  async kmsFor(caller: Caller, projectId: string, from: { encrypted?: boolean } = {}): Promise<string | null> {
    if (!from.encrypted && !(await this.asksForEncryption(caller, projectId))) return null;
    const name = await this.kms.choiceFor(projectId);
    if (!this.kms.has(name)) {
      const names = this.kms.names();
      throw new UnavailableError(
        `project ${projectId} asks for encryption at rest, and there is no kms instance "${name}" to encrypt with (instances: ${names.length ? names.join(', ') : 'none'}); build kms-local into the program or declare kms.${name} in the configuration`,
        { reason: 'KMS_INSTANCE_MISSING', resource: resourceName(['projects', projectId]) },
      );
    }
    return name;
  }

  /** The kms instance a run or version recorded; NOT_FOUND or UNAVAILABLE as `PluginInstances.open`. */
  keyManager(name: string): Promise<KeyManager> {
    return this.kms.open(name);
  }

  private async asksForEncryption(caller: Caller, projectId: string): Promise<boolean> {
    const cached = this.cache.get(projectId);
    if (cached && cached.until > Date.now()) return cached.encrypt;
    let encrypt: boolean;
    try {
      const { project } = await this.clients.of(IdentityServiceDesc, 'governance').getProject({ projectId }, forwardAs(caller, 10_000));
      encrypt = project?.encryptAtRest ?? false;
    } catch (error) {
      if (isGrpcError(error, status.NOT_FOUND)) {
        // Governance issued the caller's token from its bindings, so it knows every project a token
        // can name; one it does not know (a token minted elsewhere) has no setting to honour.
        this.logger.warn({ projectId }, 'governance knows no such project: it is treated as not asking for encryption at rest');
        encrypt = false;
      } else {
        // Otherwise only a process that hosts no governance and names no address for it (a spec's
        // platform of one service); a distributed service is given governance's address.
        if (!(error instanceof DependencyUnavailableError) || error.reason !== 'DEPENDENCY_NOT_CONFIGURED') throw error;
        if (!this.warnedUnconfigured) this.logger.warn('governance is not reachable from this process: projects are treated as not asking for encryption at rest');
        this.warnedUnconfigured = true;
        encrypt = false;
      }
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(projectId, { encrypt, until: Date.now() + SETTING_CACHE_MS });
    return encrypt;
  }
}

function isGrpcError(error: unknown, code: status): boolean {
  return (error as { code?: unknown } | null)?.code === code;
}
