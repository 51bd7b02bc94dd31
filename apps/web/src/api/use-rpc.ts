import type { RpcMethod } from '@trellis/client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSession } from './session';

/** A request in flight, answered, or refused. */
export interface RpcState<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  /** Asks again (after a change the page made). */
  reload(): void;
}

/**
 * Calls a unary RPC when the component mounts and whenever `body` changes (compared as JSON), and
 * aborts a call whose answer is no longer wanted. `body` undefined waits (a value not known yet).
 */
export function useRpc<T>(method: RpcMethod, body: object | undefined): RpcState<T> {
  const { client } = useSession();
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: body !== undefined });
  const [generation, setGeneration] = useState(0);
  const key = body === undefined ? undefined : JSON.stringify(body);
  const latest = useRef(body);
  latest.current = body;
  useEffect(() => {
    if (key === undefined) return;
    const abort = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    client.call<T>(method, latest.current, { signal: abort.signal }).then(
      (data) => !abort.signal.aborted && setState({ data, loading: false }),
      (error: Error) => !abort.signal.aborted && setState({ error, loading: false }),
    );
    return () => abort.abort();
  }, [client, method, key, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

/**
 * A change the user asks for (a button): `run(body)` calls the RPC, keeps its error to show, and
 * resolves with the answer (undefined when refused).
 */
export function useMutation<T>(method: RpcMethod): { run(body: object): Promise<T | undefined>; error?: Error; pending: boolean; clear(): void } {
  const { client } = useSession();
  const [state, setState] = useState<{ error?: Error; pending: boolean }>({ pending: false });
  const run = useCallback(
    async (body: object) => {
      setState({ pending: true });
      try {
        const answer = await client.call<T>(method, body);
        setState({ pending: false });
        return answer;
      } catch (error) {
        setState({ error: error as Error, pending: false });
        return undefined;
      }
    },
    [client, method],
  );
  const clear = useCallback(() => setState({ pending: false }), []);
  return { ...state, run, clear };
}
