import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Log levels the config accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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

/** Creates the JSON logger of a process; services take children named after themselves. */
export function createLogger(options: { level: (typeof LOG_LEVELS)[number]; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACTED, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
