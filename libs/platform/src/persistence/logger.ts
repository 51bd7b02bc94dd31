/**
 * The logger the persistence and events kit writes to. Any pino logger fits, and so does anything
 * else with these four methods: the first argument is an object of structured fields, the second
 * the message.
 */
export interface KitLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A {@link KitLogger} that drops everything: the default wherever a logger is optional. */
export const silentLogger: KitLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
