import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Language as ApiLanguage } from "../api/client";
import { LANGUAGES, useI18n, type Language } from "../i18n/I18nProvider";
import { errorKey } from "../shared/errors";

/** The preferred language (the interface's, and the one messages are translated into), and
 * whether read receipts are sent (and the interlocutors' shown). */
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
  // The choice shows at once (a controlled checkbox would otherwise jump back until the answer).
  const [choosing, setChoosing] = useState<boolean | null>(null);
  const saveReceipts = useMutation({
    mutationFn: (readReceipts: boolean) => unwrap(api.PATCH("/messaging/me", { body: { readReceipts } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(["me"], updated);
      // Whether the interlocutors' read times are shown changed with it.
      void queryClient.invalidateQueries({ queryKey: ["thread"] });
    },
  });
  const current = (profile.data?.preferredLanguage as Language | undefined) ?? language;
  // Shown once the profile is loaded: a default shown before would be a guess.
  const receipts = choosing ?? profile.data?.readReceipts ?? true;

  function chooseReceipts(on: boolean) {
    setChoosing(on);
    // A refusal puts the saved choice back.
    saveReceipts.mutate(on, { onSettled: () => setChoosing(null) });
  }
  const saved = save.isSuccess || saveReceipts.isSuccess;
  const failed = save.error ?? saveReceipts.error;

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
        {profile.data && (
          <fieldset className="language-choice">
            <legend>{t("settings.readReceipts")}</legend>
            <label className={receipts ? "choice active" : "choice"}>
              <input type="checkbox" checked={receipts} onChange={(event) => chooseReceipts(event.target.checked)} disabled={saveReceipts.isPending} data-testid="read-receipts" />
              <span>{t("settings.readReceiptsLabel")}</span>
            </label>
            <p className="muted">{t("settings.readReceiptsHint")}</p>
          </fieldset>
        )}
        <div role="status" aria-live="polite" className="small">
          {saved && <span className="ok">{t("settings.saved")}</span>}
        </div>
        {failed && (
          <p className="error" role="alert">
            {t(errorKey(failed, has))}
          </p>
        )}
      </div>
    </section>
  );
}
