import type { Metadata } from '@grpc/grpc-js';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createMongoAbility } from '@casl/ability';
import { PermissionDeniedError, UnauthenticatedError } from '../errors';
import { abilityFor, type AppAbility } from './ability';
import { HOW_TO_GET_A_TOKEN } from './api-key-format';
import { Caller } from './caller';
import type { Principal } from './principal';
import { callContextOf, type CallContext } from './call-context';
import { PERMISSION_KEY, type PermissionRequirement } from './permission.decorator';

type RoleRequirement = Exclude<PermissionRequirement, { public: true }>;
import { grpcMethodOf } from '../grpc/method-path';
import { TokenVerifier } from './token-verifier';

const NOTHING: AppAbility = createMongoAbility([]);

/**
 * Authenticates and authorizes every gRPC call: reads `authorization: Bearer <token>`, verifies
 * it, builds the caller's ability, checks the permission the handler declared, and binds the
 * `Caller` to the call. Fails closed: a handler without a declared permission is refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  // The verifier returns the same Principal object for the same token, so its ability is built once.
  private readonly abilities = new WeakMap<Principal, AppAbility>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  private abilityOf(principal: Principal): AppAbility {
    let ability = this.abilities.get(principal);
    if (!ability) {
      ability = abilityFor(principal);
      this.abilities.set(principal, ability);
    }
    return ability;
  }

  /** Synchronous for a token already verified (the usual case), so a call costs no extra await. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'rpc') return true;
    const metadata = context.switchToRpc().getContext<Metadata>();
    const grpcCall = context.getArgByIndex<{ getPeer?(): string; getPath?(): string } | undefined>(2);
    const call = callContextOf(metadata, grpcCall);
    const method = grpcMethodOf(grpcCall?.getPath?.()).full;
    const requirement = this.reflector.get<PermissionRequirement | undefined>(PERMISSION_KEY, context.getHandler());
    if (!requirement) throw new PermissionDeniedError(`${context.getHandler().name} declares no permission`);
    if ('public' in requirement) {
      call.caller = new Caller(undefined, NOTHING, call.requestId, undefined, call.clientAddress, { method, action: '' });
      return true;
    }
    call.required = requirement;
    const token = bearerToken(metadata);
    const known = this.verifier.verified(token);
    if (known) return this.authorize(call, known, token, method, requirement);
    return this.verifier.verify(token).then((principal) => this.authorize(call, principal, token, method, requirement));
  }

  private authorize(call: CallContext, principal: Principal, token: string, method: string, requirement: RoleRequirement): boolean {
    const ability = this.abilityOf(principal);
    call.caller = new Caller(principal, ability, call.requestId, token, call.clientAddress, { method, action: requirement.action });
    if (!requirement.anyRole && !ability.can(requirement.action, requirement.kind)) {
      throw new PermissionDeniedError(`${principal.id} has no role that may ${requirement.action} ${requirement.kind} in any project`);
    }
    return true;
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
