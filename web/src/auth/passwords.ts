import type { MessageKey } from "../i18n/I18nProvider";

// The user pool's password policy (infra/identity_construct.py; the local emulator's pool has the
// same), shown while typing so that Cognito's refusal is rarely needed. Symbols as Cognito counts them.
export const PASSWORD_RULES: readonly { key: MessageKey; met: (password: string) => boolean }[] = [
  { key: "password.rule.length", met: (password) => [...password].length >= 12 },
  { key: "password.rule.lower", met: (password) => /[a-z]/.test(password) },
  { key: "password.rule.upper", met: (password) => /[A-Z]/.test(password) },
  { key: "password.rule.number", met: (password) => /[0-9]/.test(password) },
  { key: "password.rule.symbol", met: (password) => /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/.test(password) },
];

export function meetsPolicy(password: string): boolean {
  return PASSWORD_RULES.every((rule) => rule.met(password));
}

/** The sentence for a refusal of Cognito during sign-in, a new password or a reset. */
export function authErrorKey(code: string): MessageKey {
  switch (code) {
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return "signIn.wrongPassword";
    case "InvalidPasswordException":
      return "password.refused";
    case "CodeMismatchException":
      return "reset.codeMismatch";
    case "ExpiredCodeException":
      return "reset.codeExpired";
    case "LimitExceededException":
    case "TooManyRequestsException":
    case "TooManyFailedAttemptsException":
      return "auth.tooManyAttempts";
    default:
      return "signIn.failed";
  }
}
