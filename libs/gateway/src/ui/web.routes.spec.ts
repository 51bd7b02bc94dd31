import { createLogger } from '@trellis/platform';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Gateway } from '../gateway';

/** A GET as sent, path not normalised (fetch would resolve `..` itself). */
function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web UI at /', () => {
  const parent = mkdtempSync(join(tmpdir(), 'trellis-web-'));
  const root = join(parent, 'dist');
  const script = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;
  let gateway: Gateway;
  let unbuilt: Gateway;
  let base: string;
  let unbuiltBase: string;

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Trellis</title><script type="module" src="/assets/app-1a2b.js"></script>');
    writeFileSync(join(root, 'assets/app-1a2b.js'), script);
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(parent, 'secret.txt'), 'not for the web');
    const logger = createLogger({ level: 'silent' });
    gateway = new Gateway({ upstreams: {}, maxBodyBytes: 1_000_000, logger, webRoot: root });
    unbuilt = new Gateway({ upstreams: {}, maxBodyBytes: 1_000_000, logger, webRoot: join(parent, 'missing') });
    base = await gateway.listen('127.0.0.1', 0);
    unbuiltBase = await unbuilt.listen('127.0.0.1', 0);
  });

  afterAll(async () => {
    await gateway.close();
    await unbuilt.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it('answers index.html for / and every page under /ui/, never cached, with a policy that refuses inline scripts', async () => {
    for (const path of ['/', '/ui', '/ui/p/3f2a/runs/abc?tab=metrics']) {
      const page = await get(base, path);
      expect({ path, status: page.status, type: page.headers['content-type'], cache: page.headers['cache-control'] }).toEqual({ path, status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache' });
      expect(page.body.toString()).toContain('<title>Trellis</title>');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(page.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves hashed assets for a year, gzipped when the browser takes it, and 304 for an unchanged one', async () => {
    const plain = await get(base, '/assets/app-1a2b.js');
    expect(plain.status).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body.toString()).toBe(script);
    const zipped = await get(base, '/assets/app-1a2b.js', { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(Number(zipped.headers['content-length'])).toBeLessThan(script.length / 10);
    expect(gunzipSync(zipped.body).toString()).toBe(script);
    const again = await get(base, '/assets/app-1a2b.js', { 'if-none-match': String(plain.headers.etag) });
    expect({ status: again.status, bytes: again.body.length }).toEqual({ status: 304, bytes: 0 });
    expect((await get(base, '/favicon.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it('answers 404 for a missing asset and never serves a file outside the build', async () => {
    const missing = await get(base, '/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toMatchObject({ status: 'NOT_FOUND', message: 'no such file of the web UI: /assets/nope.js' });
    for (const path of ['/assets/..%2F..%2Fsecret.txt', '/assets/%2E%2E/%2E%2E/secret.txt', '/assets/..%2Findex.html%00']) {
      const escaped = await get(base, path);
      expect({ path, status: escaped.status }).toEqual({ path, status: 404 });
      expect(escaped.body.toString()).not.toContain('not for the web');
    }
  });

  it('says how to build the UI when it is not built, and leaves the API routes as they were', async () => {
    const page = await get(unbuiltBase, '/');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('npm run build');
    expect((await get(unbuiltBase, '/assets/app-1a2b.js')).status).toBe(404);
    const api = await get(base, '/v1/trellis.governance.v1.IdentityService/ListProjects');
    expect(api.status).toBe(405);
  });
});
