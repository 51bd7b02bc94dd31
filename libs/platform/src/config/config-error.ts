/** A configuration that cannot be used; the message names every bad key, where it came from and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
