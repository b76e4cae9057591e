import { useState, type FormEvent } from "react";
import { useI18n, LANGUAGES, type MessageKey } from "../i18n/I18nProvider";
import { useAuth } from "./AuthProvider";
import { SignInError } from "./cognito";

export function SignIn() {
  const { signIn } = useAuth();
  const { t, language, setLanguage } = useI18n();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<MessageKey | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(login.trim(), password);
    } catch (caught) {
      const code = caught instanceof SignInError ? caught.code : "";
      setError(code === "NotAuthorizedException" || code === "UserNotFoundException" ? "signIn.wrongPassword" : code === "NewPasswordRequired" ? "signIn.newPasswordRequired" : "signIn.failed");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">✉</span>
        </div>
        <h1 id="sign-in-title">{t("signIn.title")}</h1>
        <p className="muted">{t("signIn.intro")}</p>
        <label htmlFor="login">{t("signIn.login")}</label>
        <input id="login" name="username" autoComplete="username" value={login} onChange={(event) => setLogin(event.target.value)} required />
        <label htmlFor="password">{t("signIn.password")}</label>
        <input id="password" name="password" type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} required />
        {error && (
          <p className="error" role="alert">
            {t(error)}
          </p>
        )}
        <button className="button primary wide" type="submit" disabled={busy}>
          {busy ? t("signIn.busy") : t("signIn.submit")}
        </button>
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
