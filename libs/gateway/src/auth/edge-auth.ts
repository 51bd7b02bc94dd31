import { status } from '@grpc/grpc-js';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { unverifiedRevocableClaims, type RevocationList } from '@trellis/platform';
import { TokenServiceDesc } from '@trellis/proto';
import { GatewayError, retryAfterOf, upstreamDetailsOf } from '../errors/gateway-error';
import type { RequestContext } from '../http/request-context';
import type { Upstreams } from '../upstreams/upstreams';
import { credentialsOf, unauthenticated } from './credentials';
import { TokenCache } from './token-cache';

/** Exchange failures that say nothing about the key, answered with their own code rather than 401. */
const NOT_ABOUT_THE_KEY = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.INTERNAL]);

/**
 * The caller's token for a request: a token (JWT) sent as it is, or the token governance's
 * TokenServiceDesc.ExchangeApiKey issued for the API key sent, cached (see TokenCache) until it is
 * due for refresh or `revocations` names it. The gateway verifies nothing itself: the services
 * do, on every call.
 *
 * Governance limits rejected exchanges per client address, and the address it sees is the
 * gateway's: callers sending bad keys share that budget, while good keys are never refused for
 * it (the cache makes that one exchange per key per token lifetime). The kit has no trusted way to
 * forward the caller's address yet.
 */
export class EdgeAuth {
  private readonly tokens: TokenCache;

  constructor(
    private readonly upstreams: Upstreams,
    options: { cacheEntries?: number; revocations?: RevocationList } = {},
  ) {
    this.tokens = new TokenCache((apiKey, requestId) => this.exchange(apiKey, requestId), { maxEntries: options.cacheEntries, revocations: options.revocations });
  }

  /** The token to call upstream with, or undefined when the request sent no credentials. */
  async tokenOf(ctx: RequestContext): Promise<string | undefined> {
    const credentials = credentialsOf(ctx.req.headers.authorization);
    if (credentials.kind === 'none') return undefined;
    if (credentials.kind === 'token') return credentials.token;
    return this.tokens.tokenFor(credentials.apiKey, ctx.requestId);
  }

  /**
   * The request gave its caller access their token does not carry (it created a project): a
   * request with the same API key gets a new token first. A client that sent a token exchanges again itself.
   */
  accessGained(ctx: RequestContext): void {
    const credentials = credentialsOf(ctx.req.headers.authorization);
    if (credentials.kind === 'apiKey') this.tokens.renew(credentials.apiKey);
  }

  private async exchange(apiKey: string, requestId: string) {
    try {
      const { token, expireTime } = await this.upstreams.client(TokenServiceDesc).exchangeApiKey({ apiKey }, { requestId });
      // Governance issued it: its claims are read only to drop it from the cache when revoked.
      return { token, expiresAt: expireTime ? timestampMs(expireTime) : 0, claims: unverifiedRevocableClaims(token) };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const { code, details } = error as { code?: number; details?: string };
      const message = `API key exchange failed: ${details ?? String(error)}`;
      throw code !== undefined && NOT_ABOUT_THE_KEY.has(code) ? new GatewayError(code, message, undefined, retryAfterOf(error), upstreamDetailsOf(error)) : unauthenticated(message, code === status.UNAUTHENTICATED ? upstreamDetailsOf(error) : undefined);
    }
  }
}
