/**
 * Crashes the process at a named point when `TRELLIS_FAILPOINTS` (comma-separated) names it, with
 * SIGKILL so nothing gets to clean up: how the restart specs stop the service between a backend's
 * `submit` and the record of it. Named points: `compute.after-submit`.
 */
export function failpoint(name: string): void {
  const named = process.env.TRELLIS_FAILPOINTS;
  if (named && named.split(',').includes(name)) process.kill(process.pid, 'SIGKILL');
}
