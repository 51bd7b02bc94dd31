import { sharedPlatform } from '@trellis/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(__dirname, '../bin/trellis.js');

/** What one `trellis` invocation did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How a spec runs the CLI: as which user, with which saved settings, with what on standard input. */
export interface CliRun {
  /** Sent as TRELLIS_API_KEY (default: the shared platform's admin); null sends none. */
  apiKey?: string | null;
  /** TRELLIS_CONFIG_DIR (default: a new empty directory per call). */
  configDir?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
}

/** A new directory for the CLI's profiles, for specs that log in and then run commands. */
export function newConfigDir(): string {
  return mkdtempSync(join(tmpdir(), 'trellis-cli-config-'));
}

/**
 * Runs the built `trellis` command (`npm run build` first, which npm test does) as a user would,
 * against the shared platform (TRELLIS_URL), and resolves with its exit code and output.
 */
export function runCli(args: readonly string[], run: CliRun = {}): Promise<CliResult> {
  const { gateway, adminKey } = sharedPlatform();
  const apiKey = run.apiKey === undefined ? adminKey : run.apiKey;
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), TRELLIS_URL: gateway, TRELLIS_CONFIG_DIR: run.configDir ?? newConfigDir(), ...run.env };
  if (apiKey !== null) env.TRELLIS_API_KEY = apiKey;
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: run.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(run.input);
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** The JSON a command printed with `-o json`, or a failure that shows what it printed instead. */
export function jsonOf<T>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`trellis exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}
