import { useState } from "react";
import { downloadAttachment, type Attachment, type Message } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import { ConfirmDialog } from "../shared/ConfirmDialog";
import { errorKey } from "../shared/errors";
import { useDeleteMessage, useTranslation } from "./useThread";

export function MessageItem({ message, threadId }: { message: Message; threadId: string }) {
  const { t, has, language, formatTime } = useI18n();
  const mine = !message.author.isInterlocutor;
  const automatic = message.translation ?? null;
  // An automatic translation is shown first, with the original one click away.
  const [showTranslation, setShowTranslation] = useState(automatic !== null);
  const [requested, setRequested] = useState(false);
  const translation = useTranslation(message.id, language as Message["language"] & ("pl" | "en" | "uk"), requested && automatic === null);
  const [confirming, setConfirming] = useState(false);
  const [copied, setCopied] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const remove = useDeleteMessage(threadId);

  const translated = automatic ?? translation.data ?? null;
  const showingTranslation = showTranslation && translated !== null;
  const canTranslate = message.language !== language;

  function translate() {
    setRequested(true);
    setShowTranslation(true);
  }

  async function copy() {
    await navigator.clipboard.writeText(showingTranslation && translated ? translated.text : message.text);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  }

  function confirmDelete() {
    setConfirming(false);
    remove.mutate(message.id, { onError: (error) => setActionError(t(errorKey(error, has))) });
  }

  const typeLabel = message.type === "ASK_QUESTION" ? t("message.type.ASK_QUESTION") : message.type === "MAIL" ? t("message.type.MAIL") : t("message.type.MESSAGE_CENTER");
  const offer = message.relatesTo?.offer?.id;
  const order = message.relatesTo?.order?.id;

  return (
    <article className={mine ? "message mine" : "message theirs"} aria-label={t("message.label", { login: message.author.login, time: formatTime(message.createdAt) })} data-testid="message">
      <header className="message-head">
        <span className="message-author">{mine ? t("message.me") : message.author.login}</span>
        <time dateTime={message.createdAt}>{formatTime(message.createdAt)}</time>
        <span className={`message-type type-${message.type}`}>{typeLabel}</span>
      </header>
      {(message.subject || offer || order) && (
        <p className="message-context">
          {offer ? t("message.aboutOffer", { id: offer }) : order ? t("message.aboutOrder", { id: order }) : null}
          {message.subject ? <span className="subject"> · {message.subject}</span> : null}
        </p>
      )}
      <div className="message-text" lang={showingTranslation && translated ? translated.targetLanguage : message.language === "und" ? undefined : message.language}>
        {showingTranslation && translated ? translated.text : message.text}
      </div>
      {showingTranslation && translated && (
        <p className="machine-note">{t("message.machineTranslated", { from: translated.sourceLanguage, to: translated.targetLanguage })}</p>
      )}
      {translation.isError && (
        <p className="error small" role="alert">
          {t(errorKey(translation.error, has))}
        </p>
      )}
      {(message.attachments ?? []).length > 0 && (
        <ul className="attachments" aria-label={t("message.attachments")}>
          {(message.attachments ?? []).map((attachment, index) => (
            <AttachmentRow key={`${attachment.fileName}-${index}`} attachment={attachment} onError={(error) => setActionError(t(errorKey(error, has)))} />
          ))}
        </ul>
      )}
      <div className="message-actions">
        {showingTranslation ? (
          <button type="button" className="link-button" onClick={() => setShowTranslation(false)}>
            {t("message.showOriginal")}
          </button>
        ) : (
          (canTranslate || translated !== null) && (
            <button type="button" className="link-button" onClick={translate} disabled={translation.isFetching}>
              {translation.isFetching ? t("message.translating") : t("message.translate")}
            </button>
          )
        )}
        <button type="button" className="link-button" onClick={() => void copy()}>
          {copied ? t("message.copied") : t("message.copy")}
        </button>
        <button type="button" className="link-button danger" onClick={() => setConfirming(true)} data-testid="delete">
          {t("message.delete")}
        </button>
      </div>
      {actionError && (
        <p className="error small" role="alert">
          {actionError}
        </p>
      )}
      <ConfirmDialog open={confirming} title={t("message.deleteTitle")} confirmLabel={t("message.deleteConfirm")} cancelLabel={t("common.cancel")} onConfirm={confirmDelete} onClose={() => setConfirming(false)}>
        <p>{t("message.deleteWarning")}</p>
      </ConfirmDialog>
    </article>
  );
}

function AttachmentRow({ attachment, onError }: { attachment: Attachment; onError: (error: unknown) => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const available = attachment.url && attachment.status === "SAFE";
  const kind = attachment.mimeType === "application/pdf" ? "PDF" : attachment.mimeType?.startsWith("image/") ? attachment.mimeType.slice(6).toUpperCase() : "FILE";

  async function download() {
    if (!attachment.url) return;
    setBusy(true);
    try {
      // Same origin as the app, whatever host name the API put in the link.
      await downloadAttachment(new URL(attachment.url, window.location.origin).pathname, attachment.fileName);
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="attachment">
      <span className="file-icon" aria-hidden="true">
        {kind}
      </span>
      <span className="file-name">{attachment.fileName}</span>
      {available ? (
        <button type="button" className="button secondary small" onClick={() => void download()} disabled={busy} aria-label={t("message.downloadNamed", { name: attachment.fileName })}>
          {t("message.download")}
        </button>
      ) : (
        <span className="muted small">{t("message.attachmentUnavailable")}</span>
      )}
    </li>
  );
}
