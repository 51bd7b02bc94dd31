import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { abilityFor, type AppAbility, Caller, CONFIG, drainable, type Drain, listenError, LOGGER, type Logger, type Principal, SERVICE_CONFIG, TokenVerifier, type TrellisConfig, UnauthenticatedError } from '@trellis/platform';
import type { ServingConfig } from '../serving.config';
import { inferenceHttpHandler } from './inference.http';
import { INFERENCE_OBSERVER, INFERENCE_SERVER_INFO, INFERENCE_TARGETS, type InferenceObserver, type InferenceServerInfo, type InferenceTargets } from './inference-targets';

/**
 * The Open Inference Protocol's REST API on the serving process's own HTTP port
 * (`services.serving.httpPort`): the same routing and rights as the gRPC handlers, with the
 * caller's bearer token (a platform token, as the gateway exchanges an API key for).
 */
@Injectable()
export class InferenceHttpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private drain?: Drain;
  // The verifier returns the same Principal for the same token: its ability (and the decisions CASL caches on it) is built once, as the gRPC guard does.
  private readonly abilities = new WeakMap<Principal, AppAbility>();
  /** Where it listens (`http://host:port`), once started. */
  address = '';

  constructor(
    @Inject(INFERENCE_TARGETS) private readonly targets: InferenceTargets,
    private readonly verifier: TokenVerifier,
    @Inject(INFERENCE_SERVER_INFO) private readonly info: InferenceServerInfo,
    @Inject(SERVICE_CONFIG) private readonly config: ServingConfig,
    @Inject(CONFIG) private readonly platform: TrellisConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(INFERENCE_OBSERVER) private readonly observer?: InferenceObserver,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const handler = inferenceHttpHandler({
      targets: this.targets,
      info: this.info,
      authenticate: (request) => this.callerOf(request),
      observer: this.observer,
      onUnexpectedError: (error) => this.logger.error({ err: error }, 'unexpected error answering an inference request'),
    });
    const server = createServer(handler);
    this.drain = drainable(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort, this.platform.host, () => resolve());
    }).catch((error: unknown) => {
      throw listenError(error, "serving's inference REST API", `${this.platform.host}:${this.config.httpPort}`, 'services.serving.httpPort (TRELLIS_SERVING_HTTP_PORT)');
    });
    const { port } = server.address() as AddressInfo;
    this.address = `http://${this.platform.host.includes(':') ? `[${this.platform.host}]` : this.platform.host}:${port}`;
    this.logger.info({ address: this.address }, 'inference REST API listening');
  }

  async onApplicationShutdown(): Promise<void> {
    // Clients (the gateway) leave their keep-alive connections before they close: no request fails.
    await this.drain?.();
  }

  private async callerOf(request: IncomingMessage): Promise<Caller> {
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    if (!token) throw new UnauthenticatedError('this call needs credentials: send `Authorization: Bearer <token>`');
    const principal = this.verifier.verified(token) ?? (await this.verifier.verify(token));
    const requestId = (request.headers['x-request-id'] as string | undefined) || randomUUID();
    return new Caller(principal, this.abilityOf(principal), requestId, token, `${request.socket.remoteAddress ?? ''}:${request.socket.remotePort ?? ''}`);
  }

  private abilityOf(principal: Principal): AppAbility {
    let ability = this.abilities.get(principal);
    if (!ability) {
      ability = abilityFor(principal);
      this.abilities.set(principal, ability);
    }
    return ability;
  }
}
