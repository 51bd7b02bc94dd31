import type { Metadata } from '@grpc/grpc-js';
import { createMongoAbility } from '@casl/ability';
import { PermissionDeniedError, UnauthenticatedError } from '../errors';
import { abilityFor, type AppAbility } from './ability';
import { HOW_TO_GET_A_TOKEN } from './api-key-format';
import { Caller } from './caller';
import type { Principal } from './principal';
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

/**
 * Authenticates and authorizes every gRPC call: reads `authorization: Bearer <token>`, verifies
 * it (refusing revoked tokens), builds the caller's ability, checks the permission the handler
 * declared, and binds the `Caller` to the call. A method without a declared permission never
 * starts (see assertEveryMethodGuarded).
 */
export class AuthGuard {
  // The verifier returns the same Principal object for the same token, so its ability is built once.
  private readonly abilities = new WeakMap<Principal, AppAbility>();

  constructor(private readonly verifier: TokenVerifier) {}

  /**
   * Lets the call through, setting `call.caller`, or throws UnauthenticatedError or
   * PermissionDeniedError. Synchronous for a token already verified (the usual case), so a call
   * costs no extra await.
   */
  admit(call: CallContext, metadata: Metadata, method: GuardedMethod): void | Promise<void> {
    const { requirement } = method;
    if ('public' in requirement) {
      call.caller = new Caller(undefined, NOTHING, call.requestId, undefined, call.clientAddress, method.call);
      return;
    }
    call.required = requirement;
    const token = bearerToken(metadata);
    const known = this.verifier.verified(token);
    if (known) return this.authorize(call, known, token, method.call, requirement);
    return this.verifier.verify(token).then((principal) => this.authorize(call, principal, token, method.call, requirement));
  }

  private abilityOf(principal: Principal): AppAbility {
    let ability = this.abilities.get(principal);
    if (!ability) {
      ability = abilityFor(principal);
      this.abilities.set(principal, ability);
    }
    return ability;
  }

  private authorize(call: CallContext, principal: Principal, token: string, called: GuardedMethod['call'], requirement: RoleRequirement): void {
    const ability = this.abilityOf(principal);
    call.caller = new Caller(principal, ability, call.requestId, token, call.clientAddress, called);
    if (!requirement.anyRole && !ability.can(requirement.action, requirement.kind)) {
      throw new PermissionDeniedError(`${principal.id} has no role that may ${requirement.action} ${requirement.kind} in any project`);
    }
  }
}

function bearerToken(metadata: Metadata): string {
  const header = metadata.get('authorization')[0];
  if (typeof header !== 'string' || header.length === 0) {
    throw new UnauthenticatedError(`missing credentials: send \`authorization: Bearer <token>\`; ${HOW_TO_GET_A_TOKEN}`);
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthenticatedError('malformed authorization header: expected `Bearer <token>`');
  return match[1];
}
