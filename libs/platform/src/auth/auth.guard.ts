import type { Metadata } from '@grpc/grpc-js';
import { createMongoAbility } from '@casl/ability';
import { PermissionDeniedError, UnauthenticatedError } from '../errors';
import { abilityFor, type AppAbility } from './ability';
import { HOW_TO_GET_A_TOKEN } from './api-key-format';
import { CallerOfCall } from './caller';
import type { Principal } from './principal';
import { TokenCache } from './token-cache';
import type { CallContext } from './call-context';
import type { PermissionRequirement } from './permission.decorator';
import type { TokenVerifier } from './token-verifier';

type RoleRequirement = Exclude<PermissionRequirement, { public: true }>;

/** What the guard knows of a method, worked out once when the server starts. */
export interface GuardedMethod {
  /** The permission its handler declared. */
  requirement: PermissionRequirement;
  /** `package.Service/Method` and the declared action, as every `Caller` of the method reports them. */
  call: { method: string; action: string };
}

const NOTHING: AppAbility = createMongoAbility([]);
/** How many `authorization` headers the guard remembers the token of. */
const KNOWN_HEADERS = 10_000;

/** A principal's ability, and whether it may call each method it has called (a CASL check costs more than the rest of the guard). */
interface Rights {
  ability: AppAbility;
  mayCall: Map<GuardedMethod, boolean>;
}

/**
 * Authenticates and authorizes every gRPC call: reads `authorization: Bearer <token>`, verifies
 * it (refusing revoked tokens), builds the caller's ability, checks the permission the handler
 * declared, and binds the `Caller` to the call. A method without a declared permission never
 * starts (see assertEveryMethodGuarded).
 */
export class AuthGuard {
  // The verifier returns the same Principal object for the same token, so its rights are worked out once.
  private readonly rights = new WeakMap<Principal, Rights>();
  // A client sends the same header on every call: its token is parsed out once.
  private readonly tokens = new TokenCache<string>(KNOWN_HEADERS);

  constructor(private readonly verifier: TokenVerifier) {}

  /**
   * Lets the call through, setting `call.caller`, or throws UnauthenticatedError or
   * PermissionDeniedError. Synchronous for a token already verified (the usual case), so a call
   * costs no extra await.
   */
  admit(call: CallContext, metadata: Metadata, method: GuardedMethod): void | Promise<void> {
    const { requirement } = method;
    if ('public' in requirement) {
      call.caller = new CallerOfCall(undefined, NOTHING, call, undefined, method.call);
      return;
    }
    call.required = requirement;
    const token = this.bearerToken(metadata);
    const known = this.verifier.verified(token);
    if (known) return this.authorize(call, known, token, method, requirement);
    return this.verifier.verify(token).then((principal) => this.authorize(call, principal, token, method, requirement));
  }

  private rightsOf(principal: Principal): Rights {
    let rights = this.rights.get(principal);
    if (!rights) {
      rights = { ability: abilityFor(principal), mayCall: new Map() };
      this.rights.set(principal, rights);
    }
    return rights;
  }

  private authorize(call: CallContext, principal: Principal, token: string, method: GuardedMethod, requirement: RoleRequirement): void {
    const { ability, mayCall } = this.rightsOf(principal);
    call.caller = new CallerOfCall(principal, ability, call, token, method.call);
    let allowed = mayCall.get(method);
    if (allowed === undefined) {
      allowed = !!requirement.anyRole || ability.can(requirement.action, requirement.kind);
      mayCall.set(method, allowed);
    }
    if (!allowed) {
      throw new PermissionDeniedError(`${principal.id} has no role that may ${requirement.action} ${requirement.kind} in any project`, { reason: 'ROLE_MISSING' });
    }
  }

  private bearerToken(metadata: Metadata): string {
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || header.length === 0) {
      throw new UnauthenticatedError(`missing credentials: send \`authorization: Bearer <token>\`; ${HOW_TO_GET_A_TOKEN}`, { reason: 'CREDENTIALS_MISSING' });
    }
    let token = this.tokens.get(header);
    if (token === undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new UnauthenticatedError('malformed authorization header: expected `Bearer <token>`', { reason: 'AUTHORIZATION_MALFORMED' });
      token = match[1];
      this.tokens.set(header, token);
    }
    return token;
  }
}
