import { createContext, useContext, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useI18n, LANGUAGES, type MessageKey } from "../i18n/I18nProvider";
import { useAuth } from "./AuthProvider";
import { SignInError } from "./cognito";
import { PasswordFields } from "./PasswordFields";
import { authErrorKey, meetsPolicy } from "./passwords";

// Sign in; an invited user's first sign-in (a password of their own); "forgot password" (a code by
// e-mail, then a new password). Whatever the step, the page's address stays: once signed in, the
// user is where the link took them.
type Step =
  | { name: "signIn" }
  | { name: "newPassword"; setPassword: (newPassword: string) => Promise<void> }
  | { name: "forgot" }
  | { name: "reset"; destination: string | null };

function errorOf(caught: unknown): MessageKey {
  return authErrorKey(caught instanceof SignInError ? caught.code : "");
}

function newPasswordProblem(password: string, repeated: string): MessageKey | null {
  if (!meetsPolicy(password)) return "password.weak";
  return password === repeated ? null : "password.mismatch";
}

export function SignIn() {
  const { signIn, forgotPassword, confirmForgotPassword } = useAuth();
  const [step, setStep] = useState<Step>({ name: "signIn" });
  const [login, setLogin] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  const [moved, setMoved] = useState(false);

  function go(next: Step) {
    setMoved(true);
    setError(null);
    setStep(next);
  }

  async function attempt(action: () => Promise<void>, mapError: (caught: unknown) => MessageKey = errorOf) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(mapError(caught));
    } finally {
      setBusy(false);
    }
  }

  const common = { login, setLogin, error, busy };
  let form: ReactNode;
  switch (step.name) {
    case "signIn":
      form = (
        <SignInForm
          {...common}
          onSubmit={(password) =>
            attempt(async () => {
              const outcome = await signIn(login.trim(), password);
              if (outcome.kind === "newPasswordRequired") go({ name: "newPassword", setPassword: outcome.setPassword });
            })
          }
          onForgot={() => go({ name: "forgot" })}
        />
      );
      break;
    case "newPassword":
      form = (
        <NewPasswordForm
          error={error}
          busy={busy}
          onProblem={setError}
          // The challenge's session lasts a few minutes; after that Cognito refuses it.
          onSubmit={(password) => attempt(() => step.setPassword(password), (caught) => (caught instanceof SignInError && caught.code === "NotAuthorizedException" ? "newPassword.expired" : errorOf(caught)))}
          onBack={() => go({ name: "signIn" })}
        />
      );
      break;
    case "forgot":
      form = (
        <ForgotForm
          {...common}
          onSubmit={() =>
            attempt(
              async () => {
                try {
                  go({ name: "reset", destination: await forgotPassword(login.trim()) });
                } catch (caught) {
                  // Like a pool that prevents user-existence errors: no hint whether the login exists.
                  if (caught instanceof SignInError && caught.code === "UserNotFoundException") go({ name: "reset", destination: null });
                  else throw caught;
                }
              },
              // A user who never signed in has no password to reset: the invitation's one is the way in.
              (caught) => (caught instanceof SignInError && caught.code === "NotAuthorizedException" ? "forgot.notActivated" : errorOf(caught)),
            )
          }
          onBack={() => go({ name: "signIn" })}
        />
      );
      break;
    case "reset":
      form = (
        <ResetForm
          login={login}
          destination={step.destination}
          error={error}
          busy={busy}
          onProblem={setError}
          onSubmit={(code, password) => attempt(() => confirmForgotPassword(login.trim(), code.trim(), password))}
          onResend={() => go({ name: "forgot" })}
          onBack={() => go({ name: "signIn" })}
        />
      );
      break;
  }
  return <StepMoved.Provider value={moved}>{form}</StepMoved.Provider>;
}

// Whether the user has gone from one step to another: then each new step's heading takes the focus.
const StepMoved = createContext(false);

/** The card every step is shown on. */
function Card({ titleId, title, intro, error, onSubmit, children }: { titleId: string; title: string; intro: ReactNode; error: MessageKey | null; onSubmit: (event: FormEvent) => void; children: ReactNode }) {
  const { t, language, setLanguage } = useI18n();
  const heading = useRef<HTMLHeadingElement>(null);
  const moved = useContext(StepMoved);
  useEffect(() => {
    if (moved) heading.current?.focus();
  }, [moved]);
  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={onSubmit} aria-labelledby={titleId}>
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">✉</span>
        </div>
        <h1 id={titleId} ref={heading} tabIndex={-1}>
          {title}
        </h1>
        <p className="muted">{intro}</p>
        {children}
        {error && (
          <p className="error" role="alert" data-testid="sign-in-error">
            {t(error)}
          </p>
        )}
        <div className="language-switch" role="group" aria-label={t("settings.language")}>
          {LANGUAGES.map((code) => (
            <button key={code} type="button" className={code === language ? "chip active" : "chip"} aria-pressed={code === language} onClick={() => setLanguage(code)}>
              {t(`language.${code}`)}
            </button>
          ))}
        </div>
      </form>
    </main>
  );
}

function submitting(handler: () => void) {
  return (event: FormEvent) => {
    event.preventDefault();
    handler();
  };
}

function LoginField({ login, setLogin }: { login: string; setLogin: (value: string) => void }) {
  const { t } = useI18n();
  return (
    <>
      <label htmlFor="login">{t("signIn.login")}</label>
      <input id="login" name="username" autoComplete="username" value={login} onChange={(event) => setLogin(event.target.value)} required />
    </>
  );
}

function SignInForm({ login, setLogin, error, busy, onSubmit, onForgot }: { login: string; setLogin: (value: string) => void; error: MessageKey | null; busy: boolean; onSubmit: (password: string) => void; onForgot: () => void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  return (
    <Card titleId="sign-in-title" title={t("signIn.title")} intro={t("signIn.intro")} error={error} onSubmit={submitting(() => onSubmit(password))}>
      <LoginField login={login} setLogin={setLogin} />
      <label htmlFor="password">{t("signIn.password")}</label>
      <input id="password" name="password" type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} required />
      <button className="button primary wide" type="submit" disabled={busy}>
        {busy ? t("signIn.busy") : t("signIn.submit")}
      </button>
      <button type="button" className="link-button" onClick={onForgot} data-testid="forgot-password">
        {t("signIn.forgot")}
      </button>
    </Card>
  );
}

function NewPasswordForm({ error, busy, onProblem, onSubmit, onBack }: { error: MessageKey | null; busy: boolean; onProblem: (key: MessageKey) => void; onSubmit: (password: string) => void; onBack: () => void }) {
  const { t } = useI18n();
  const [password, setPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  function submit() {
    const problem = newPasswordProblem(password, repeated);
    if (problem) onProblem(problem);
    else onSubmit(password);
  }
  return (
    <Card titleId="new-password-title" title={t("newPassword.title")} intro={t("newPassword.intro")} error={error} onSubmit={submitting(submit)}>
      <PasswordFields password={password} repeated={repeated} onPassword={setPassword} onRepeated={setRepeated} />
      <button className="button primary wide" type="submit" disabled={busy}>
        {busy ? t("newPassword.busy") : t("newPassword.submit")}
      </button>
      <button type="button" className="link-button" onClick={onBack}>
        {t("forgot.back")}
      </button>
    </Card>
  );
}

function ForgotForm({ login, setLogin, error, busy, onSubmit, onBack }: { login: string; setLogin: (value: string) => void; error: MessageKey | null; busy: boolean; onSubmit: () => void; onBack: () => void }) {
  const { t } = useI18n();
  return (
    <Card titleId="forgot-title" title={t("forgot.title")} intro={t("forgot.intro")} error={error} onSubmit={submitting(onSubmit)}>
      <LoginField login={login} setLogin={setLogin} />
      <button className="button primary wide" type="submit" disabled={busy}>
        {busy ? t("forgot.busy") : t("forgot.submit")}
      </button>
      <button type="button" className="link-button" onClick={onBack}>
        {t("forgot.back")}
      </button>
    </Card>
  );
}

function ResetForm({ login, destination, error, busy, onProblem, onSubmit, onResend, onBack }: { login: string; destination: string | null; error: MessageKey | null; busy: boolean; onProblem: (key: MessageKey) => void; onSubmit: (code: string, password: string) => void; onResend: () => void; onBack: () => void }) {
  const { t } = useI18n();
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  function submit() {
    const problem = newPasswordProblem(password, repeated);
    if (problem) onProblem(problem);
    else onSubmit(code, password);
  }
  const intro = destination ? t("reset.sentTo", { destination, login }) : t("reset.sent", { login });
  return (
    <Card titleId="reset-title" title={t("reset.title")} intro={intro} error={error} onSubmit={submitting(submit)}>
      <label htmlFor="reset-code">{t("reset.code")}</label>
      <input id="reset-code" name="one-time-code" autoComplete="one-time-code" inputMode="numeric" value={code} onChange={(event) => setCode(event.target.value)} required />
      <PasswordFields password={password} repeated={repeated} onPassword={setPassword} onRepeated={setRepeated} />
      <button className="button primary wide" type="submit" disabled={busy}>
        {busy ? t("newPassword.busy") : t("reset.submit")}
      </button>
      <button type="button" className="link-button" onClick={onResend}>
        {t("reset.resend")}
      </button>
      <button type="button" className="link-button" onClick={onBack}>
        {t("forgot.back")}
      </button>
    </Card>
  );
}
