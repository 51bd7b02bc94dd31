import { Inject, Injectable } from '@nestjs/common';
import { IdentityServiceDesc } from '@trellis/proto';
import type { Caller } from '../auth/caller';
import { DependencyUnavailableError, forwardAs, ServiceClients } from '../grpc/service-clients';
import type { Logger } from '../ops/logger';
import { LOGGER } from '../service/kit.module';
import { DEFAULT_KMS } from './kms-instances';

/** How long a project's setting is reused before governance is asked again. */
const SETTING_CACHE_MS = 5_000;

/**
 * Whether a project's new objects are encrypted at rest, and through which KMS instance, as
 * governance's `GetProject` says (`encrypt_at_rest`), asked with the caller's token when a run or
 * version is created and reused for a few seconds. What it answers is recorded with the run or
 * version, which keeps it for life: changing the flag affects new runs and versions only.
 */
@Injectable()
export class ProjectEncryption {
  private readonly cache = new Map<string, { kms: string | null; until: number }>();
  private warnedUnconfigured = false;

  constructor(
    private readonly clients: ServiceClients,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The KMS instance that encrypts what `projectId` stores from now on, or null when the project
   * does not ask for encryption at rest. Fails (UNAVAILABLE) when governance does not answer,
   * rather than store in the clear what should have been encrypted.
   */
  async kmsFor(caller: Caller, projectId: string): Promise<string | null> {
    const cached = this.cache.get(projectId);
    if (cached && cached.until > Date.now()) return cached.kms;
    let encrypt: boolean;
    try {
      const { project } = await this.clients.of(IdentityServiceDesc, 'governance').getProject({ projectId }, forwardAs(caller, 10_000));
      encrypt = project?.encryptAtRest ?? false;
    } catch (error) {
      // Only a process that hosts no governance and names no address for it (a spec's platform):
      // runProcess refuses to start a service that calls governance without one.
      if (!(error instanceof DependencyUnavailableError) || error.reason !== 'DEPENDENCY_NOT_CONFIGURED') throw error;
      if (!this.warnedUnconfigured) this.logger.warn('governance is not reachable from this process: projects are treated as not asking for encryption at rest');
      this.warnedUnconfigured = true;
      encrypt = false;
    }
    const kms = encrypt ? DEFAULT_KMS : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(projectId, { kms, until: Date.now() + SETTING_CACHE_MS });
    return kms;
  }
}
