import pino, { type Logger } from 'pino';
import { formatLogLine } from './pretty-log';

export type { Logger } from 'pino';

/** Log levels the config accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Log formats the config accepts; `auto` is `pretty` on a terminal and `json` otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/**
 * Paths that may carry secrets anywhere in a log object. pino replaces their values, so a token
 * or API key that reaches a log call by mistake is still never written.
 */
const REDACTED = [
  'authorization',
  'token',
  'apiKey',
  'password',
  'secret',
  '*.authorization',
  '*.token',
  '*.apiKey',
  '*.password',
  '*.secret',
  'headers.authorization',
  '*.headers.authorization',
];

/** The format a `log.format` setting means for an output: `auto` is pretty only on a terminal. */
export function logFormatFor(setting: (typeof LOG_FORMATS)[number], output: { isTTY?: boolean } = process.stdout): 'json' | 'pretty' {
  if (setting !== 'auto') return setting;
  return output.isTTY ? 'pretty' : 'json';
}

/**
 * Creates the logger of a process (services take children named after themselves): JSON lines by
 * default, for log collectors; with `format: 'pretty'`, one readable line per entry, for a person
 * at a terminal. Either way secrets are redacted before anything is written, and lines go to
 * stdout (unless `destination` says otherwise) synchronously, so they keep their order with what the
 * process prints itself and none is lost when it exits.
 */
export function createLogger(options: {
  level: (typeof LOG_LEVELS)[number];
  format?: 'json' | 'pretty';
  destination?: pino.DestinationStream;
}): Logger {
  const destination = options.destination ?? (options.format === 'pretty' ? process.stdout : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACTED, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.format === 'pretty' ? { write: (line: string) => destination.write(formatLogLine(line)) } : destination,
  );
}
