import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, unwrap, type Language as ApiLanguage } from "../api/client";
import { LANGUAGES, useI18n, type Language } from "../i18n/I18nProvider";
import { errorKey } from "../shared/errors";

/** The preferred language: the interface's, and the one messages are translated into. */
export function Settings() {
  const { t, has, language, setLanguage } = useI18n();
  const queryClient = useQueryClient();
  const profile = useQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/messaging/me")) });
  const save = useMutation({
    mutationFn: (preferredLanguage: ApiLanguage) => unwrap(api.PATCH("/messaging/me", { body: { preferredLanguage } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(["me"], updated);
      setLanguage(updated.preferredLanguage as Language);
    },
  });
  const current = (profile.data?.preferredLanguage as Language | undefined) ?? language;

  return (
    <section className="settings" aria-labelledby="settings-title">
      <header className="thread-head">
        <Link to="/" className="icon-button back" aria-label={t("thread.back")}>
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path fill="currentColor" d="M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z" />
          </svg>
        </Link>
        <h1 id="settings-title">{t("settings.title")}</h1>
      </header>
      <div className="settings-body">
        {profile.data && (
          <dl className="profile">
            <dt>{t("settings.login")}</dt>
            <dd>{profile.data.login}</dd>
            <dt>{t("settings.marketplace")}</dt>
            <dd>{profile.data.marketplace}</dd>
            <dt>{t("settings.account")}</dt>
            <dd>{profile.data.businessAccount ? t("settings.business") : t("settings.private")}</dd>
          </dl>
        )}
        <fieldset className="language-choice">
          <legend>{t("settings.language")}</legend>
          <p className="muted">{t("settings.languageHint")}</p>
          {LANGUAGES.map((code) => (
            <label key={code} className={code === current ? "choice active" : "choice"}>
              <input type="radio" name="language" value={code} checked={code === current} onChange={() => save.mutate(code)} disabled={save.isPending} />
              <span>{t(`language.${code}`)}</span>
            </label>
          ))}
        </fieldset>
        <div role="status" aria-live="polite" className="small">
          {save.isSuccess && <span className="ok">{t("settings.saved")}</span>}
        </div>
        {save.isError && (
          <p className="error" role="alert">
            {t(errorKey(save.error, has))}
          </p>
        )}
      </div>
    </section>
  );
}
