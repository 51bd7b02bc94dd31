import type { RequestContext } from '../http/request-context';
import type { Router } from '../http/router';
import type { WebAsset, WebAssets } from './web-assets';

/** Where the UI's pages live: every path under it is the single-page app's (the browser routes). */
export const WEB_UI_PATH = '/ui';

/**
 * What a page of the UI may load: its own scripts and styles only (no inline script, so injected
 * markup cannot run), images from itself and blob/data URLs (artifact previews), requests to this
 * gateway only, and no framing by another site.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Trellis</title>
<p>The web UI is not built. Run <code>npm run build</code> (or <code>npm start</code>, which builds it), then reload.</p>
<p>The API answers at <code>/v1/&lt;package.Service&gt;/&lt;Method&gt;</code>, described at <a href="/openapi.json">/openapi.json</a>.</p>`;

/**
 * The web UI at `/`: `index.html` for `/` and every page under `/ui/` (the app routes in the
 * browser), hashed files under `/assets/` cached for a year, everything else from the build's
 * root (favicon). Nothing here needs credentials: the UI signs in through the API.
 */
export function webRoutes(router: Router, assets: WebAssets | undefined): void {
  const page = (ctx: RequestContext) => {
    const index = assets?.get('index.html');
    if (!index) {
      ctx.res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      ctx.res.end(ctx.req.method === 'HEAD' ? undefined : NOT_BUILT);
      return;
    }
    send(ctx, index, 'no-cache');
  };
  const file = (prefix: string, cacheControl: string) => (ctx: RequestContext) => {
    const asset = assets?.get(`${prefix}${ctx.params['*'] ?? ''}`);
    if (!asset) {
      ctx.sendJson(404, { code: 5, status: 'NOT_FOUND', message: `no such file of the web UI: ${ctx.path.slice(0, 120)}`, request_id: ctx.requestId, reason: 'NOT_FOUND' });
      return;
    }
    send(ctx, asset, cacheControl);
  };
  for (const method of ['GET', 'HEAD']) {
    router.add(method, '/', page);
    router.add(method, WEB_UI_PATH, page);
    router.add(method, `${WEB_UI_PATH}/*`, page);
    router.add(method, '/assets/*', file('assets/', 'public, max-age=31536000, immutable'));
    router.add(method, '/favicon.svg', file('favicon.svg', 'public, max-age=86400'));
  }
}

function send(ctx: RequestContext, asset: WebAsset, cacheControl: string): void {
  const { req, res } = ctx;
  const headers: Record<string, string> = {
    'content-type': asset.contentType,
    'cache-control': cacheControl,
    etag: asset.etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (asset.contentType.startsWith('text/html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? asset.gzip! : asset.body;
  if (gzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
