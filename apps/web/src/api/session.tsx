import { ApiKeySession, GatewayClient, hasRole, type Role, type TokenClaims } from '@trellis/client';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

/** The signed-in user's view of the gateway: a client that sends a fresh token, and what the token allows. */
export interface Session {
  client: GatewayClient;
  claims: TokenClaims;
  /** Whether the user holds at least `role` in the project (buttons hide what it cannot do; the API refuses it anyway). */
  can(projectId: string, role: Role): boolean;
  /** Exchanges the key again: after the user's roles changed (a project it created). */
  refresh(): Promise<void>;
  signOut(): void;
}

interface SessionState {
  session?: Session;
  signIn(apiKey: string): Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

/**
 * Holds the sign-in: the API key exchanged for a token, both in memory only (no cookie, no
 * storage), so a reload signs out and no other site can make requests as the user.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<{ keySession: ApiKeySession; claims: TokenClaims }>();
  const signIn = useCallback(async (apiKey: string) => {
    const keySession = await ApiKeySession.signIn('', apiKey);
    setState({ keySession, claims: keySession.claims });
  }, []);
  const session = useMemo<Session | undefined>(() => {
    if (!state) return undefined;
    const { keySession, claims } = state;
    return {
      client: new GatewayClient({ url: '', credential: keySession }),
      claims,
      can: (projectId, role) => hasRole(claims, projectId, role),
      refresh: async () => {
        await keySession.refresh();
        setState({ keySession, claims: keySession.claims });
      },
      signOut: () => setState(undefined),
    };
  }, [state]);
  const value = useMemo(() => ({ session, signIn }), [session, signIn]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState outside SessionProvider');
  return state;
}

/** The signed-in session (pages under the layout only render once signed in). */
export function useSession(): Session {
  const { session } = useSessionState();
  if (!session) throw new Error('useSession before sign-in');
  return session;
}
