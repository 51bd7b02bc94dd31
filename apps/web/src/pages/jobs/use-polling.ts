import { useEffect } from 'react';

/**
 * Calls `refresh` every `intervalMs` while `active`: the compute API has no watch call, so pages
 * of jobs that may still change look again.
 */
export function usePolling(refresh: () => void, active: boolean, intervalMs: number): void {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(refresh, intervalMs);
    return () => clearInterval(timer);
  }, [refresh, active, intervalMs]);
}
