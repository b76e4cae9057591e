// Sign-in with Cognito's standard flows (amazon-cognito-identity-js): SRP on AWS, USER_PASSWORD_AUTH
// against the local emulator. Tokens (incl. the refresh token) stay in localStorage, so a reload keeps
// the user signed in and getSession renews an expired access token silently.
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession } from "amazon-cognito-identity-js";
import type { WebConfig } from "./config";

export class SignInError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export class CognitoSession {
  private readonly pool: CognitoUserPool;
  private readonly flow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";

  constructor(config: WebConfig) {
    const endpoint = config.cognitoEndpoint ? new URL(config.cognitoEndpoint, window.location.origin).toString() : undefined;
    this.pool = new CognitoUserPool({ UserPoolId: config.userPoolId, ClientId: config.clientId, endpoint });
    this.flow = config.authFlow ?? "USER_SRP_AUTH";
  }

  signIn(login: string, password: string): Promise<string> {
    const user = new CognitoUser({ Username: login, Pool: this.pool });
    user.setAuthenticationFlowType(this.flow);
    return new Promise((resolve, reject) => {
      user.authenticateUser(new AuthenticationDetails({ Username: login, Password: password }), {
        onSuccess: (session) => resolve(session.getAccessToken().getJwtToken()),
        onFailure: (error: { code?: string; message?: string }) => reject(new SignInError(error.code ?? "Unknown", error.message ?? "")),
        newPasswordRequired: () => reject(new SignInError("NewPasswordRequired", "")),
      });
    });
  }

  /** The current access token (renewed with the refresh token when expired), or null. */
  accessToken(): Promise<string | null> {
    const user = this.pool.getCurrentUser();
    if (!user) return Promise.resolve(null);
    return new Promise((resolve) => {
      user.getSession((error: Error | null, session: CognitoUserSession | null) => {
        resolve(!error && session?.isValid() ? session.getAccessToken().getJwtToken() : null);
      });
    });
  }

  currentLogin(): string | null {
    return this.pool.getCurrentUser()?.getUsername() ?? null;
  }

  signOut(): void {
    this.pool.getCurrentUser()?.signOut();
  }
}
