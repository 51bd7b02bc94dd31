import { status } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { GatewayError } from '../errors/gateway-error';

/** Lists the projects the caller may read, one page at a time (IdentityService.ListProjects). */
export type ListProjects = (pageToken: string) => Promise<{ projects: Array<{ id: string; name: string }>; nextPageToken: string }>;

/** The project MLflow routes use when the tracking URI names none. */
export const DEFAULT_PROJECT = 'default';

/**
 * Project names to ids, as each caller sees them: the projects governance lists for the caller,
 * cached briefly per caller (keyed by a digest of the caller's token and the name), so one
 * caller's view never answers another's and a new project shows up within `ttlMs`. A name the
 * caller cannot see is a 404 naming it, never cached.
 */
export class ProjectResolver {
  private readonly entries = new Map<string, { id: string; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The id of the project `name` that `token`'s caller may read. */
  async idOf(token: string | undefined, name: string, listProjects: ListProjects): Promise<string> {
    const key = createHash('sha256').update(`${token ?? ''}\n${name}`).digest('base64');
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.id;
    this.entries.delete(key);
    let pageToken = '';
    do {
      const page = await listProjects(pageToken);
      const found = page.projects.find((project) => project.name === name);
      if (found) {
        this.entries.set(key, { id: found.id, expiresAt: this.now() + this.ttlMs });
        if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
        return found.id;
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    throw new GatewayError(status.NOT_FOUND, `project "${name}" does not exist, or you may not read it`);
  }
}
