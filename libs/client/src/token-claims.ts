/** A project role, weakest first (as governance's Role). */
export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** What a Trellis token says about its bearer, read without checking its signature (the services check it). */
export interface TokenClaims {
  /** The principal's id. */
  subject: string;
  kind: 'user' | 'service_account';
  orgAdmin: boolean;
  /** The caller's role in each project it is a member of. */
  bindings: ReadonlyArray<{ projectId: string; role: Role }>;
  /** When the token stops working, in milliseconds since the epoch. */
  expiresAt: number;
  /** The token came from an API key limited to some projects. */
  scoped: boolean;
}

/**
 * The claims of a Trellis token, to show only what its bearer may do. Hiding a button is a
 * courtesy: every service still checks the token on every call.
 */
export function tokenClaims(token: string): TokenClaims {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error('not a token: expected a JWT (three dot-separated parts)');
  const claims = JSON.parse(decodeBase64Url(payload)) as Record<string, unknown>;
  const bindings = Array.isArray(claims.bindings) ? (claims.bindings as Array<{ project?: unknown; role?: unknown }>) : [];
  return {
    subject: String(claims.sub ?? ''),
    kind: claims.kind === 'service_account' ? 'service_account' : 'user',
    orgAdmin: claims.org_admin === true,
    bindings: bindings
      .filter((binding): binding is { project: string; role: Role } => typeof binding.project === 'string' && ROLES.includes(binding.role as Role))
      .map((binding) => ({ projectId: binding.project, role: binding.role })),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : 0,
    scoped: claims.scoped === true,
  };
}

/** Whether the bearer holds at least `role` in the project (an org admin holds every role). */
export function hasRole(claims: TokenClaims, projectId: string, role: Role): boolean {
  if (claims.orgAdmin) return true;
  const held = claims.bindings.find((binding) => binding.projectId === projectId)?.role;
  return held !== undefined && ROLES.indexOf(held) >= ROLES.indexOf(role);
}

function decodeBase64Url(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  const binary = atob(base64);
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}
