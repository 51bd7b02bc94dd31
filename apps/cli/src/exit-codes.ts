import { GatewayRequestError } from '@trellis/client';

/**
 * What `trellis` exits with, so scripts can branch on it (docs/cli.md lists them): 0 done, 1 any
 * other failure, 2 a command used wrongly (unknown option, missing argument), then one per kind
 * of refusal by the platform.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** No credentials, or the gateway refused them: run `trellis login`. */
  unauthenticated: 3,
  /** Signed in, but the role does not allow it. */
  permissionDenied: 4,
  notFound: 5,
  /** It exists already, or its state does not allow the change (ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED). */
  conflict: 6,
  /** The gateway or a service is unreachable or overloaded: try again later. */
  unavailable: 7,
  /** The platform refused an argument's value (INVALID_ARGUMENT, OUT_OF_RANGE). */
  invalidArgument: 8,
  /** A verification that ran found a problem (`audit verify` of a broken chain, `jobs logs` of a failed job). */
  checkFailed: 9,
  /** Stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2. */
  interrupted: 130,
} as const;

/** A failure the CLI itself found, with its exit code and what to do about it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** The exit code and the message (with what to do next) of anything a command threw. */
export function describeFailure(error: unknown): { exitCode: number; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  if (error instanceof GatewayRequestError) {
    const [exitCode, hint] = HINTS[error.status] ?? [EXIT.failed, ''];
    const request = error.requestId ? ` (request ${error.requestId})` : '';
    return { exitCode, message: `${error.message}${request}${hint ? `\n${hint}` : ''}` };
  }
  return { exitCode: EXIT.failed, message: error instanceof Error ? error.message : String(error) };
}

const HINTS: Record<string, [number, string]> = {
  UNAUTHENTICATED: [EXIT.unauthenticated, 'Sign in with `trellis login --url <gateway> --api-key <key>` (or set TRELLIS_API_KEY).'],
  PERMISSION_DENIED: [EXIT.permissionDenied, "Your role does not allow this: ask one of the project's admins (`trellis members list`)."],
  NOT_FOUND: [EXIT.notFound, ''],
  ALREADY_EXISTS: [EXIT.conflict, ''],
  FAILED_PRECONDITION: [EXIT.conflict, ''],
  ABORTED: [EXIT.conflict, 'It changed meanwhile: try again.'],
  INVALID_ARGUMENT: [EXIT.invalidArgument, ''],
  OUT_OF_RANGE: [EXIT.invalidArgument, ''],
  RESOURCE_EXHAUSTED: [EXIT.unavailable, 'A limit was reached: try again later, or ask for a larger quota.'],
  UNAVAILABLE: [EXIT.unavailable, 'Try again in a moment; `trellis status` shows whether the gateway answers.'],
  DEADLINE_EXCEEDED: [EXIT.unavailable, 'Try again in a moment.'],
};
