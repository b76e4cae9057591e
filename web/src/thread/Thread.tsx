import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { Composer } from "../compose/Composer";
import { useI18n } from "../i18n/I18nProvider";
import { Avatar } from "../shared/Avatar";
import { errorKey } from "../shared/errors";
import { MessageItem } from "./MessageItem";
import { useMarkRead, useMessages, useThreadDetails } from "./useThread";

export function Thread() {
  const { threadId = "" } = useParams();
  const { t, has, formatDay, formatShort, formatTime } = useI18n();
  const navigate = useNavigate();
  const details = useThreadDetails(threadId);
  const messages = useMessages(threadId);
  const markRead = useMarkRead(threadId);
  const [announcement, setAnnouncement] = useState("");
  const seen = useRef<Set<string> | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const markedRead = useRef(false);

  const thread = details.data;
  const login = thread?.interlocutor?.login ?? "";
  const list = messages.messages;
  const newestId = list[list.length - 1]?.id;
  // The read receipt: under my last message, once the interlocutor has read the thread after it.
  const readAt = thread?.interlocutorLastReadAt ?? null;
  const lastOwn = list.findLast((message) => !message.author.isInterlocutor);
  const receiptFor = readAt && lastOwn && Date.parse(readAt) >= Date.parse(lastOwn.createdAt) ? lastOwn.id : null;

  // Opening a thread reads it (once; "mark unread" then leaves it unread).
  useEffect(() => {
    if (thread && !markedRead.current && (!thread.read || thread.unreadCount > 0)) {
      markedRead.current = true;
      markRead.mutate(true);
    }
  }, [thread, markRead]);

  // New messages from the other side are announced; the view follows the newest message.
  useEffect(() => {
    if (!messages.isSuccess) return;
    const ids = new Set(list.map((message) => message.id));
    if (seen.current) {
      const arrived = list.filter((message) => !seen.current?.has(message.id) && message.author.isInterlocutor);
      if (arrived.length > 0) {
        const last = arrived[arrived.length - 1];
        setAnnouncement(t("thread.newMessage", { login: last?.author.login ?? "", text: (last?.text ?? "").slice(0, 140) }));
        if (thread && !markRead.isPending) markRead.mutate(true);
      }
    }
    seen.current = ids;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [newestId, messages.isSuccess]);

  // (and shows the read receipt when it appears under the newest message)
  const newestReadAt = receiptFor !== null && receiptFor === newestId ? readAt : null;
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [newestId, newestReadAt]);

  function markUnread() {
    markRead.mutate(false, { onSuccess: () => navigate("/") });
  }

  if (details.isError) {
    return (
      <div className="thread">
        <p className="error pad" role="alert">
          {t(errorKey(details.error, has))}
        </p>
        <Link to="/" className="button secondary">
          {t("thread.back")}
        </Link>
      </div>
    );
  }

  const days = list.map((message) => formatDay(message.createdAt));
  return (
    <section className="thread" aria-labelledby="thread-title">
      <header className="thread-head">
        <Link to="/" className="icon-button back" aria-label={t("thread.back")}>
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path fill="currentColor" d="M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z" />
          </svg>
        </Link>
        {login && <Avatar login={login} url={thread?.interlocutor?.avatarUrl} size={36} />}
        <h1 id="thread-title">{login || t("inbox.loading")}</h1>
        <button type="button" className="button secondary small" onClick={markUnread} disabled={!thread}>
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
            <path fill="currentColor" d="M20 8.7V18a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h10.1a5 5 0 0 0 0 2H4v.4l8 5 3-1.9a5 5 0 0 0 2.4 1L12 14 4 9V18h14V9.9a5 5 0 0 0 2-1.2zM19 2a3 3 0 1 1 0 6 3 3 0 0 1 0-6z" />
          </svg>
          <span className="label-text">{t("thread.markUnread")}</span>
        </button>
      </header>
      <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="live-region">
        {announcement}
      </div>
      <div className="messages">
        {messages.hasNextPage && (
          <button type="button" className="button secondary small older" onClick={() => void messages.fetchNextPage()} disabled={messages.isFetchingNextPage}>
            {t("thread.older")}
          </button>
        )}
        {messages.isPending && <p className="muted pad">{t("inbox.loading")}</p>}
        {messages.isError && (
          <p className="error" role="alert">
            {t(errorKey(messages.error, has))}
          </p>
        )}
        <ol className="message-list" aria-label={t("thread.messages")}>
          {list.map((message, index) => {
            const day = days[index] ?? "";
            const separator = index === 0 || day !== days[index - 1];
            return (
              <li key={message.id} className="message-slot">
                {separator && (
                  <div className="day-separator">
                    <span>{day}</span>
                  </div>
                )}
                <MessageItem message={message} threadId={threadId} />
                {message.id === receiptFor && readAt && (
                  <p className="read-receipt" data-testid="read-receipt">
                    <time dateTime={readAt}>{t("thread.seen", { time: formatShort(readAt) === formatTime(readAt) ? formatTime(readAt) : `${formatShort(readAt)}, ${formatTime(readAt)}` })}</time>
                  </p>
                )}
              </li>
            );
          })}
        </ol>
        <div ref={bottom} />
      </div>
      <Composer threadId={threadId} />
    </section>
  );
}
