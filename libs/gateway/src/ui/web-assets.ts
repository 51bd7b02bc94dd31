import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One file of the built web UI, read once and kept with its gzip form. */
export interface WebAsset {
  body: Buffer;
  gzip?: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Files smaller than this are sent as they are: gzip would save less than its own cost. */
const GZIP_FROM_BYTES = 1024;

/**
 * The web UI's built files (apps/web's `dist/`, made by `npm run build`), read from `root` on first
 * request and kept (a file changed on disk is read again). Paths never leave `root`.
 */
export class WebAssets {
  private readonly cache = new Map<string, { mtimeMs: number; asset: WebAsset }>();

  constructor(readonly root: string) {}

  /** Whether the UI has been built into `root`. */
  get built(): boolean {
    return existsSync(join(this.root, 'index.html'));
  }

  /** The file at `path` (relative to root, `/`-separated), or undefined when there is none. */
  get(path: string): WebAsset | undefined {
    const relative = normalize(path).replace(/^(\.\.(\/|\\|$))+/, '');
    if (relative.split(sep).includes('..') || relative.includes('\0')) return undefined;
    const file = join(this.root, relative);
    let mtimeMs: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return undefined;
      mtimeMs = stat.mtimeMs;
    } catch {
      return undefined;
    }
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === mtimeMs) return cached.asset;
    const body = readFileSync(file);
    const contentType = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(contentType) && body.length >= GZIP_FROM_BYTES;
    const asset: WebAsset = { body, contentType, etag: `"${mtimeMs.toString(36)}-${body.length.toString(36)}"`, ...(compressible ? { gzip: gzipSync(body) } : {}) };
    this.cache.set(file, { mtimeMs, asset });
    return asset;
  }
}

/** The package whose built files are the web UI (apps/web): files to serve, no code the gateway runs. */
const WEB_UI_PACKAGE = '@trellis/web';

/**
 * Where the built web UI is: `configured` when set, else the `dist/` of the @trellis/web package
 * beside this process's own packages, else undefined (the gateway then says how to build it).
 */
export function webAssetsRoot(configured: string): string | undefined {
  if (configured !== '') return configured;
  try {
    return join(dirname(require.resolve(`${WEB_UI_PACKAGE}/package.json`)), 'dist');
  } catch {
    return undefined;
  }
}
