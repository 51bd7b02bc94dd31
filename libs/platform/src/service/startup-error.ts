/**
 * A process cannot start for a reason its operator can fix: a port in use, a server it cannot
 * reach. The message says what was tried and which setting changes it, so it is printed as it is,
 * without a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** Why a listen failed, in words, for the errors a setting can fix; undefined for others. */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use (another Trellis process, or another program)',
  EACCES: 'this user may not listen on that port',
  EADDRNOTAVAIL: 'this machine has no such address',
};

/**
 * The error to throw when a server could not listen: a StartupError naming `setting` for a port
 * in use, a port not allowed or an address not on this machine; `error` itself otherwise.
 * `what` names the server (`the gateway`), `address` what it tried (`127.0.0.1:8080`).
 */
export function listenError(error: unknown, what: string, address: string, setting: string): unknown {
  const text = error instanceof Error ? error.message : String(error);
  // grpc-js wraps the listen error in its own message, so the code is looked for in the text too.
  const code = (error as { code?: unknown }).code;
  const known = Object.keys(LISTEN_FAILURES).find((name) => name === code || text.includes(name));
  if (!known) return error;
  const hostSetting = known === 'EADDRNOTAVAIL' ? 'host (TRELLIS_HOST)' : setting;
  return new StartupError(`${what} cannot listen on ${address}: ${LISTEN_FAILURES[known]}; choose another with ${hostSetting}`);
}

/**
 * The StartupError of a server that could not be reached at start: what it is, where it was
 * looked for (never with credentials), the setting that says where, and the driver's own reason.
 */
export function unreachableError(what: string, address: string, setting: string, error: unknown): StartupError {
  const reason = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
  return new StartupError(`cannot reach ${what} at ${address}: ${reason}; check that it runs there, or set ${setting} to where it does`);
}

/** A URL as it may be printed: scheme, host, port and path, never a user name or password. */
export function printableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
