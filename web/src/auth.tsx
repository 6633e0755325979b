import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { SuanwangClient } from '../../src/api/client/client.js';

/**
 * The signed-in token (kept in this browser's localStorage) and the typed API client over it. The
 * portal talks only to the public /v1 API of the server that serves it.
 */
const STORAGE_KEY = 'suanwang.token';

interface Auth {
  readonly token: string | null;
  readonly client: SuanwangClient;
  signIn(token: string): void;
  signOut(): void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { readonly children: ReactNode }) {
  const [token, setToken] = useState<string | null>(() => localStorage.getItem(STORAGE_KEY));
  const queries = useQueryClient();
  const signIn = useCallback((t: string) => {
    localStorage.setItem(STORAGE_KEY, t);
    queries.clear();
    setToken(t);
  }, [queries]);
  const signOut = useCallback(() => {
    localStorage.removeItem(STORAGE_KEY);
    queries.clear();
    setToken(null);
  }, [queries]);
  const value = useMemo<Auth>(
    () => ({ token, client: new SuanwangClient(window.location.origin, token ?? undefined), signIn, signOut }),
    [token, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}

/** The API client of the signed-in user. */
export function useClient(): SuanwangClient {
  return useAuth().client;
}

/** Who the token belongs to (user, org, role); null while signed out. */
export function useWhoAmI() {
  const { token, client } = useAuth();
  return useQuery({ queryKey: ['whoami', token], queryFn: () => client.whoami(), enabled: token !== null, retry: false, staleTime: 60_000 });
}
