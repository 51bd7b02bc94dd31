import type { ErrorRenderer, RequestContext } from './request-context';

/** Handles one request; it answers through `ctx` and throws what should answer as an error. */
export type RouteHandler = (ctx: RequestContext) => Promise<void> | void;

/** Per-route settings. */
export interface RouteOptions {
  /** Largest body `ctx.body()` and `ctx.json()` read (default: `gateway.maxBodyBytes`). */
  maxBodyBytes?: number;
  /** How this route's errors answer (default: the gateway's JSON error body). */
  renderError?: ErrorRenderer;
}

/** A registered route. */
export interface Route extends RouteOptions {
  method: string;
  pattern: string;
  handler: RouteHandler;
  /** Names of the `:param` segments, then of the wildcard, in path order. */
  paramNames: readonly string[];
}

/** What a method and path resolve to. */
export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

interface Node {
  statics: Map<string, Node>;
  param?: Node;
  /** Routes whose last segment is `*`: they take the rest of the path, at least one character. */
  wildcard: Map<string, Route>;
  routes: Map<string, Route>;
}

const node = (): Node => ({ statics: new Map(), wildcard: new Map(), routes: new Map() });

/**
 * Maps a method and a path to a handler. Patterns are `/`-separated segments: literal text,
 * `:name` (one non-empty segment, percent-decoded) or, last, `*` or `*name` (the rest of the path,
 * decoded, slashes kept; `*` is `params['*']`). Literal segments win over `:name`, which wins
 * over `*`, whatever the order routes were added in. A path that matches only routes of other
 * methods is a 405 naming them.
 */
export class Router {
  private readonly root = node();
  private readonly all: Route[] = [];

  /** Adds a route: `router.add('POST', '/api/2.0/mlflow/runs/log-batch', handler)`. */
  add(method: string, pattern: string, handler: RouteHandler, options: RouteOptions = {}): this {
    if (!pattern.startsWith('/')) throw new Error(`route pattern "${pattern}" must start with /`);
    const segments = pattern.slice(1).split('/');
    const paramNames: string[] = [];
    let at = this.root;
    for (const [index, segment] of segments.entries()) {
      if (segment.startsWith('*')) {
        if (index !== segments.length - 1) throw new Error(`route pattern "${pattern}": * must be the last segment`);
        paramNames.push(segment.slice(1) || '*');
        this.register(at.wildcard, { method, pattern, handler, paramNames, ...options });
        return this;
      }
      if (segment.startsWith(':')) {
        paramNames.push(segment.slice(1));
        at = at.param ??= node();
      } else {
        let next = at.statics.get(segment);
        if (!next) at.statics.set(segment, (next = node()));
        at = next;
      }
    }
    this.register(at.routes, { method, pattern, handler, paramNames, ...options });
    return this;
  }

  /** Every route, in the order added. */
  routes(): readonly Route[] {
    return this.all;
  }

  /** Resolves a path (without its query string). Throws URIError on a malformed percent-encoding. */
  match(method: string, path: string): RouteMatch {
    const segments = path.slice(1).split('/');
    const allowed = new Set<string>();
    const found = this.walk(this.root, segments, 0, method, [], allowed);
    if (found) {
      const params: Record<string, string> = {};
      found.route.paramNames.forEach((name, index) => (params[name] = decodeURIComponent(found.values[index])));
      return { kind: 'found', route: found.route, params };
    }
    return allowed.size > 0 ? { kind: 'method-not-allowed', allowed: [...allowed] } : { kind: 'not-found' };
  }

  private register(routes: Map<string, Route>, route: Route): void {
    if (routes.has(route.method)) throw new Error(`route ${route.method} ${route.pattern} is already registered`);
    routes.set(route.method, route);
    this.all.push(route);
  }

  private walk(
    at: Node,
    segments: string[],
    index: number,
    method: string,
    values: string[],
    allowed: Set<string>,
  ): { route: Route; values: string[] } | undefined {
    if (index === segments.length) {
      const route = at.routes.get(method);
      if (route) return { route, values };
      for (const other of at.routes.keys()) allowed.add(other);
      return undefined;
    }
    const segment = segments[index];
    const literal = at.statics.get(segment);
    const viaLiteral = literal && this.walk(literal, segments, index + 1, method, values, allowed);
    if (viaLiteral) return viaLiteral;
    if (at.param && segment !== '') {
      const viaParam = this.walk(at.param, segments, index + 1, method, [...values, segment], allowed);
      if (viaParam) return viaParam;
    }
    if (at.wildcard.size > 0) {
      const rest = segments.slice(index).join('/');
      if (rest === '') return undefined;
      const route = at.wildcard.get(method);
      if (route) return { route, values: [...values, rest] };
      for (const other of at.wildcard.keys()) allowed.add(other);
    }
    return undefined;
  }
}
