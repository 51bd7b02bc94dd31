/** The roles a principal can hold in a project, weakest first. */
export const PROJECT_ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
/** A project role. */
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** One role of a principal in one project, as carried in its token. */
export interface RoleBinding {
  projectId: string;
  role: ProjectRole;
}

/** Who is calling: what a verified token says about its bearer. */
export interface Principal {
  /** User or service-account id (the token's `sub`). */
  id: string;
  kind: 'user' | 'service_account';
  /**
   * The platform service (`registry`) whose own identity this service account is (claim
   * `service`); governance alone makes such accounts. Only such a caller may act on behalf of a
   * user or learn where a service keeps its objects; an org's own service accounts may not.
   */
  platformService?: string;
  orgId: string;
  /** Org admins may do anything inside their org. */
  orgAdmin: boolean;
  bindings: RoleBinding[];
  /** When the token stops being valid, in milliseconds since the epoch. */
  expiresAt: number;
  /** The token came from an API key limited to some projects: it may not manage credentials. */
  scoped: boolean;
  /** The API key the token was issued for (claim `key_id`): revoking the key refuses the token. */
  apiKeyId?: string;
  /**
   * The version of the principal's roles when the token was issued (claim `access_version`; 0 when
   * absent): once a role is reduced, tokens with an older version are refused.
   */
  accessVersion?: number;
}
