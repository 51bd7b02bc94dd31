import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** One installation the CLI talks to. */
export interface Profile {
  url: string;
  apiKey: string;
  /** The project commands use when none is named (`--project`). */
  project?: string;
}

/** The CLI's saved settings: profiles by name and the one in use. */
export interface CliConfig {
  current: string;
  profiles: Record<string, Profile>;
}

/**
 * Where the CLI keeps its profiles: `$TRELLIS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/trellis`, else
 * `~/.config/trellis`; the file is `config.json`, readable by its owner only (it holds API keys).
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.TRELLIS_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'trellis');
  return join(dir, 'config.json');
}

export function readConfig(path = configPath()): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { current: 'default', profiles: {} };
  }
  const parsed = JSON.parse(text) as Partial<CliConfig>;
  return { current: parsed.current ?? 'default', profiles: parsed.profiles ?? {} };
}

/** Writes the settings with mode 0600 (the directory 0700), replacing the file in one step. */
export function writeConfig(config: CliConfig, path = configPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
