import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { onUnauthorized } from "../api/client";
import type { CognitoSession, SignInOutcome } from "./cognito";
import type { WebConfig } from "./config";

interface Auth {
  login: string | null;
  /** Signs in, or hands back Cognito's request for a new password (an invited user's first sign-in). */
  signIn: (login: string, password: string) => Promise<SignInOutcome>;
  forgotPassword: (login: string) => Promise<string | null>;
  confirmForgotPassword: (login: string, code: string, newPassword: string) => Promise<void>;
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

  const signedIn = useCallback(() => {
    queryClient.clear();
    setLogin(session.currentLogin());
  }, [session, queryClient]);

  // A 401 although a (renewed) token was sent: the session is over.
  useEffect(() => onUnauthorized(() => void session.accessToken().then((token) => token === null && signOut())), [session, signOut]);

  const value = useMemo<Auth>(
    () => ({
      login,
      signIn: async (name, password) => {
        const outcome = await session.signIn(name, password);
        if (outcome.kind === "signedIn") {
          signedIn();
          return outcome;
        }
        return {
          kind: "newPasswordRequired",
          setPassword: async (newPassword: string) => {
            await outcome.setPassword(newPassword);
            signedIn();
          },
        };
      },
      forgotPassword: (name) => session.forgotPassword(name),
      confirmForgotPassword: async (name, code, newPassword) => {
        await session.confirmForgotPassword(name, code, newPassword);
        signedIn();
      },
      signOut,
    }),
    [login, session, signOut, signedIn],
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
