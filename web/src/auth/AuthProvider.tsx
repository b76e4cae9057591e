import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { onUnauthorized } from "../api/client";
import type { CognitoSession } from "./cognito";
import type { WebConfig } from "./config";

interface Auth {
  login: string | null;
  signIn: (login: string, password: string) => Promise<void>;
  signOut: () => void;
}

const AuthContext = createContext<Auth | null>(null);
const ConfigContext = createContext<WebConfig | null>(null);

export function AuthProvider({ config, session, children }: { config: WebConfig; session: CognitoSession; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [login, setLogin] = useState<string | null>(() => session.currentLogin());

  const signOut = useCallback(() => {
    session.signOut();
    queryClient.clear();
    setLogin(null);
  }, [session, queryClient]);

  // A 401 although a (renewed) token was sent: the session is over.
  useEffect(() => onUnauthorized(() => void session.accessToken().then((token) => token === null && signOut())), [session, signOut]);

  const value = useMemo<Auth>(
    () => ({
      login,
      signIn: async (name, password) => {
        await session.signIn(name, password);
        queryClient.clear();
        setLogin(session.currentLogin());
      },
      signOut,
    }),
    [login, session, signOut, queryClient],
  );
  return (
    <ConfigContext.Provider value={config}>
      <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
    </ConfigContext.Provider>
  );
}

export function useAuth(): Auth {
  const context = useContext(AuthContext);
  if (!context) throw new Error("useAuth outside AuthProvider");
  return context;
}

export function useConfig(): WebConfig {
  const context = useContext(ConfigContext);
  if (!context) throw new Error("useConfig outside AuthProvider");
  return context;
}
