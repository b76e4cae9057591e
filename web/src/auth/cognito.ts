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

/** Signed in, or an invited user's first sign-in: Cognito wants a password of their own first. */
export type SignInOutcome = { kind: "signedIn" } | { kind: "newPasswordRequired"; setPassword: (newPassword: string) => Promise<void> };

type CognitoFailure = { code?: string; name?: string; message?: string };

function failure(error: CognitoFailure): SignInError {
  return new SignInError(error.code ?? error.name ?? "Unknown", error.message ?? "");
}

export class CognitoSession {
  private readonly pool: CognitoUserPool;
  private readonly flow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";

  constructor(config: WebConfig) {
    const endpoint = config.cognitoEndpoint ? new URL(config.cognitoEndpoint, window.location.origin).toString() : undefined;
    this.pool = new CognitoUserPool({ UserPoolId: config.userPoolId, ClientId: config.clientId, endpoint });
    this.flow = config.authFlow ?? "USER_SRP_AUTH";
  }

  private user(login: string): CognitoUser {
    const user = new CognitoUser({ Username: login, Pool: this.pool });
    user.setAuthenticationFlowType(this.flow);
    return user;
  }

  signIn(login: string, password: string): Promise<SignInOutcome> {
    const user = this.user(login);
    return new Promise((resolve, reject) => {
      user.authenticateUser(new AuthenticationDetails({ Username: login, Password: password }), {
        onSuccess: () => resolve({ kind: "signedIn" }),
        onFailure: (error: CognitoFailure) => reject(failure(error)),
        // The invitation's temporary password worked; the same user object answers the challenge.
        newPasswordRequired: () => resolve({ kind: "newPasswordRequired", setPassword: (newPassword) => this.completeNewPassword(user, newPassword) }),
      });
    });
  }

  private completeNewPassword(user: CognitoUser, newPassword: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // No attributes are sent back: the directory owns e-mail and names.
      user.completeNewPasswordChallenge(newPassword, {}, {
        onSuccess: () => resolve(),
        onFailure: (error: CognitoFailure) => reject(failure(error)),
      });
    });
  }

  /** Asks Cognito to e-mail a code; resolves with where it went (masked, e.g. "a***@e***"), if said. */
  forgotPassword(login: string): Promise<string | null> {
    const user = this.user(login);
    return new Promise((resolve, reject) => {
      user.forgotPassword({
        onSuccess: () => resolve(null),
        onFailure: (error: CognitoFailure) => reject(failure(error)),
        inputVerificationCode: (data: { CodeDeliveryDetails?: { Destination?: string } } | null) => resolve(data?.CodeDeliveryDetails?.Destination ?? null),
      });
    });
  }

  /** Sets a new password with the e-mailed code, then signs in with it. */
  async confirmForgotPassword(login: string, code: string, newPassword: string): Promise<void> {
    const user = this.user(login);
    await new Promise<void>((resolve, reject) => {
      user.confirmPassword(code, newPassword, {
        onSuccess: () => resolve(),
        onFailure: (error: CognitoFailure) => reject(failure(error)),
      });
    });
    const outcome = await this.signIn(login, newPassword);
    if (outcome.kind !== "signedIn") throw new SignInError("NewPasswordRequired", "");
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
