import { useId } from "react";
import { useI18n } from "../i18n/I18nProvider";
import { PASSWORD_RULES } from "./passwords";

/** A new password typed twice, with the pool's rules ticked off while typing. */
export function PasswordFields({ password, repeated, onPassword, onRepeated }: { password: string; repeated: string; onPassword: (value: string) => void; onRepeated: (value: string) => void }) {
  const { t } = useI18n();
  const rulesId = useId();
  return (
    <>
      <label htmlFor="new-password">{t("password.new")}</label>
      <input id="new-password" name="new-password" type="password" autoComplete="new-password" aria-describedby={rulesId} value={password} onChange={(event) => onPassword(event.target.value)} required />
      <div id={rulesId} className="password-rules">
        <p className="muted small">{t("password.rules")}</p>
        <ul>
          {PASSWORD_RULES.map((rule) => {
            const met = rule.met(password);
            return (
              <li key={rule.key} className={met ? "met" : undefined} data-testid="password-rule">
                <span aria-hidden="true">{met ? "✓" : "•"}</span> {t(rule.key)}
                <span className="visually-hidden"> ({met ? t("password.ruleMet") : t("password.ruleMissing")})</span>
              </li>
            );
          })}
        </ul>
      </div>
      <label htmlFor="repeat-password">{t("password.repeat")}</label>
      <input id="repeat-password" name="repeat-password" type="password" autoComplete="new-password" value={repeated} onChange={(event) => onRepeated(event.target.value)} required />
    </>
  );
}
