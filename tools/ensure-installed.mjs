// Installs dependencies when node_modules is missing or older than package-lock.json,
// so `npm start` and `npm test` work on a fresh clone with nothing done first.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

export function ensureInstalled() {
  const marker = 'node_modules/.package-lock.json';
  const stale = !existsSync(marker) || statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs;
  if (!stale) return;
  console.log('[trellis] installing dependencies (npm ci; better-sqlite3 compiles from source, about a minute)');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
