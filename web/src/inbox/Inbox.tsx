import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, NavLink, useSearchParams } from "react-router-dom";
import type { Thread } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import { Avatar } from "../shared/Avatar";
import { errorKey } from "../shared/errors";
import { useThreads, type InboxFilters } from "./useThreads";

function filtersFrom(params: URLSearchParams): InboxFilters {
  return { login: params.get("login") ?? "", unread: params.get("unread") === "true", withoutMyReply: params.get("withoutMyReply") === "true" };
}

export function Inbox() {
  const { t, has } = useI18n();
  const [params, setParams] = useSearchParams();
  const filters = filtersFrom(params);
  const [loginDraft, setLoginDraft] = useState(filters.login);
  const threads = useThreads(filters);
  const sentinel = useRef<HTMLLIElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = threads;

  useEffect(() => {
    const element = sentinel.current;
    if (!element || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  function update(next: Partial<InboxFilters>) {
    const merged = { ...filters, ...next };
    const search = new URLSearchParams();
    if (merged.login) search.set("login", merged.login);
    if (merged.unread) search.set("unread", "true");
    if (merged.withoutMyReply) search.set("withoutMyReply", "true");
    setParams(search, { replace: true });
  }

  function submitLogin(event: FormEvent) {
    event.preventDefault();
    update({ login: loginDraft.trim() });
  }

  const all = threads.data?.pages.flatMap((page) => page.threads) ?? [];
  const filtered = filters.login !== "" || filters.unread || filters.withoutMyReply;

  return (
    <section className="inbox" aria-labelledby="inbox-title">
      <div className="inbox-head">
        <div className="inbox-title-row">
          <h1 id="inbox-title">{t("inbox.title")}</h1>
          <Link to="/new" className="button secondary small">
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
              <path fill="currentColor" d="M3 17.2V21h3.8l11-11-3.8-3.8-11 11zM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.8 3.8L20.7 7z" />
            </svg>
            {t("inbox.newMessage")}
          </Link>
        </div>
        <form className="filters" role="search" aria-label={t("inbox.filters")} onSubmit={submitLogin}>
          <label className="visually-hidden" htmlFor="filter-login">
            {t("inbox.filterLogin")}
          </label>
          <input id="filter-login" type="search" placeholder={t("inbox.filterLoginPlaceholder")} value={loginDraft} onChange={(event) => setLoginDraft(event.target.value)} onBlur={() => loginDraft.trim() !== filters.login && update({ login: loginDraft.trim() })} />
          <div className="filter-chips">
            <label className={filters.unread ? "chip active" : "chip"}>
              <input type="checkbox" checked={filters.unread} onChange={(event) => update({ unread: event.target.checked })} />
              {t("inbox.filterUnread")}
            </label>
            <label className={filters.withoutMyReply ? "chip active" : "chip"}>
              <input type="checkbox" checked={filters.withoutMyReply} onChange={(event) => update({ withoutMyReply: event.target.checked })} />
              {t("inbox.filterWithoutReply")}
            </label>
          </div>
        </form>
      </div>
      {threads.isError && (
        <p className="error" role="alert">
          {t(errorKey(threads.error, has))}
        </p>
      )}
      {threads.isPending ? (
        <p className="muted pad">{t("inbox.loading")}</p>
      ) : all.length === 0 && !threads.isError ? (
        <div className="empty">
          <p className="empty-title">{filtered ? t("inbox.emptyFiltered") : t("inbox.empty")}</p>
          <p className="muted">{filtered ? t("inbox.emptyFilteredHint") : t("inbox.emptyHint")}</p>
        </div>
      ) : (
        <ul className="thread-list" aria-label={t("inbox.threads")}>
          {all.map((thread) => (
            <ThreadRow key={thread.id} thread={thread} />
          ))}
          {hasNextPage && (
            <li ref={sentinel} className="more">
              <button type="button" className="button secondary small" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
                {isFetchingNextPage ? t("inbox.loading") : t("inbox.more")}
              </button>
            </li>
          )}
        </ul>
      )}
    </section>
  );
}

function ThreadRow({ thread }: { thread: Thread }) {
  const { t, formatShort } = useI18n();
  const login = thread.interlocutor?.login ?? t("inbox.unknownUser");
  const unread = !thread.read || thread.unreadCount > 0;
  return (
    <li>
      <NavLink to={`/threads/${encodeURIComponent(thread.id)}`} className={unread ? "thread-row unread" : "thread-row"}>
        <Avatar login={login} url={thread.interlocutor?.avatarUrl} />
        <span className="thread-main">
          <span className="thread-login">{login}</span>
          <span className="thread-meta">{unread ? t("inbox.unreadCount", { count: thread.unreadCount }) : t("inbox.read")}</span>
        </span>
        <span className="thread-side">
          {thread.lastMessageDateTime && <time dateTime={thread.lastMessageDateTime}>{formatShort(thread.lastMessageDateTime)}</time>}
          {unread && thread.unreadCount > 0 && (
            <span className="count" aria-hidden="true">
              {thread.unreadCount}
            </span>
          )}
        </span>
      </NavLink>
    </li>
  );
}
