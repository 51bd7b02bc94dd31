import { GatewayClient } from './gateway-client';
import { tokenClaims, type TokenClaims } from './token-claims';

/** Renew a token this long before it expires, so no call carries one that expires on the way. */
const RENEW_BEFORE_MS = 60_000;

interface ExchangeApiKeyResponse {
  token: string;
  expireTime?: string;
}

/**
 * An API key exchanged for a token (`TokenService/ExchangeApiKey`), both kept in memory only:
 * the web UI's sign-in. The token is renewed before it expires, and again on `refresh()` once the
 * caller's roles changed (a project it just created). Pass it as a GatewayClient's credential.
 */
export class ApiKeySession {
  private token?: { value: string; claims: TokenClaims; renewAt: number };
  private pending?: Promise<string>;

  private constructor(
    private readonly gateway: GatewayClient,
    private readonly apiKey: string,
  ) {}

  /** Exchanges the key; rejects with the gateway's error when it is refused. */
  static async signIn(gatewayUrl: string, apiKey: string, fetcher?: typeof fetch): Promise<ApiKeySession> {
    const session = new ApiKeySession(new GatewayClient({ url: gatewayUrl, fetch: fetcher }), apiKey.trim());
    await session.refresh();
    return session;
  }

  /** The bearer's claims, as of the last exchange. */
  get claims(): TokenClaims {
    if (!this.token) throw new Error('the session has no token yet');
    return this.token.claims;
  }

  /** A token that is valid for at least another minute. */
  async credential(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    return this.refresh();
  }

  /** Exchanges the key again (one exchange at a time) and returns the new token. */
  refresh(): Promise<string> {
    this.pending ??= this.exchange().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const { token, expireTime } = await this.gateway.call<ExchangeApiKeyResponse>('trellis.governance.v1.TokenService/ExchangeApiKey', { apiKey: this.apiKey });
    const claims = tokenClaims(token);
    const expiresAt = expireTime ? Date.parse(expireTime) : claims.expiresAt;
    this.token = { value: token, claims, renewAt: Math.max(Date.now(), expiresAt - RENEW_BEFORE_MS) };
    return token;
  }
}
