import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link, NavLink, Route, Routes, useLocation, useMatch } from "react-router-dom";
import { api, unwrap } from "./api/client";
import { AttachmentDownload } from "./attachments/AttachmentDownload";
import { AuthProvider, useAuth } from "./auth/AuthProvider";
import type { CognitoSession } from "./auth/cognito";
import type { WebConfig } from "./auth/config";
import { SignIn } from "./auth/SignIn";
import { NewConversation } from "./compose/NewConversation";
import { LANGUAGES, useI18n, type Language } from "./i18n/I18nProvider";
import { Inbox } from "./inbox/Inbox";
import { RealtimeProvider, useRealtimeStatus } from "./realtime/RealtimeProvider";
import { Settings } from "./settings/Settings";
import { usePollInterval } from "./shared/usePollInterval";
import { Thread } from "./thread/Thread";

export function App({ config, session }: { config: WebConfig; session: CognitoSession }) {
  return (
    <AuthProvider config={config} session={session}>
      <Gate />
    </AuthProvider>
  );
}

function Gate() {
  const { login } = useAuth();
  // One live socket per signed-in user, closed on sign-out.
  return login ? (
    <RealtimeProvider key={login}>
      <Shell />
    </RealtimeProvider>
  ) : (
    <SignIn />
  );
}

/** The profile's language is the interface's language. */
function useProfileLanguage() {
  const { setLanguage } = useI18n();
  const profile = useQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/messaging/me")) });
  const preferred = profile.data?.preferredLanguage;
  useEffect(() => {
    if (preferred && (LANGUAGES as readonly string[]).includes(preferred)) setLanguage(preferred as Language);
  }, [preferred, setLanguage]);
  return profile.data;
}

function Shell() {
  const { t } = useI18n();
  const { login, signOut } = useAuth();
  const profile = useProfileLanguage();
  const interval = usePollInterval();
  const live = useRealtimeStatus();
  const badge = useQuery({ queryKey: ["badge"], queryFn: () => unwrap(api.GET("/messaging/me/badge")), refetchInterval: interval });
  const unread = badge.data?.unreadThreads ?? 0;
  const location = useLocation();
  const onList = useMatch("/") !== null;

  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${t("app.title")}` : t("app.title");
  }, [unread, t]);

  return (
    <div className="shell" data-realtime={live}>
      <a className="skip-link" href="#main">
        {t("app.skipToContent")}
      </a>
      <header className="top-bar">
        <Link to="/" className="brand" aria-label={t("app.title")}>
          <span className="brand-mark" aria-hidden="true">
            ✉
          </span>
          <span className="brand-name">{t("app.title")}</span>
        </Link>
        <nav className="top-actions" aria-label={t("app.navigation")}>
          {live === "reconnecting" && (
            <span className="live-status" role="status" data-testid="live-status">
              {t("app.reconnecting")}
            </span>
          )}
          <NavLink to="/?unread=true" className="icon-button badge-link" aria-label={t("app.badge", { count: unread })} data-testid="badge">
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <path fill="currentColor" d="M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2zm0 2v.4l8 5 8-5V7H4zm16 2.7-8 5-8-5V17h16V9.7z" />
            </svg>
            {unread > 0 && (
              <span className="badge-count" aria-hidden="true">
                {unread}
              </span>
            )}
          </NavLink>
          <NavLink to="/settings" className="icon-button" aria-label={t("settings.title")}>
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <path fill="currentColor" d="M19.4 13a7.8 7.8 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.6 7.6 0 0 0-1.7-1L15 3.3h-4l-.4 2.6a7.6 7.6 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.8 7.8 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.6 7.6 0 0 0 1.7 1l.4 2.6h4l.4-2.6a7.6 7.6 0 0 0 1.7-1l2.5 1 2-3.5L19.4 13zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z" transform="translate(-1 0)" />
            </svg>
          </NavLink>
          <span className="who" title={profile?.login ?? login ?? ""}>
            {login}
          </span>
          <button type="button" className="button secondary small" onClick={signOut}>
            {t("app.signOut")}
          </button>
        </nav>
      </header>
      <div className={onList ? "panes show-list" : "panes show-detail"}>
        <aside className="list-pane" aria-label={t("inbox.title")}>
          <Inbox />
        </aside>
        <main id="main" className="detail-pane" tabIndex={-1} key={location.pathname}>
          <Routes>
            <Route path="/" element={<Placeholder />} />
            <Route path="/threads/:threadId" element={<Thread />} />
            <Route path="/new" element={<NewConversation />} />
            <Route path="/settings" element={<Settings />} />
            <Route path="/attachments/:attachmentId" element={<AttachmentDownload />} />
            <Route path="*" element={<Placeholder />} />
          </Routes>
        </main>
      </div>
    </div>
  );
}

function Placeholder() {
  const { t } = useI18n();
  return (
    <div className="placeholder">
      <div className="placeholder-art" aria-hidden="true">
        ✉
      </div>
      <h1>{t("placeholder.title")}</h1>
      <p className="muted">{t("placeholder.body")}</p>
    </div>
  );
}
