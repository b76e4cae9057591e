import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, fetchAttachment, saveFile, type DownloadedFile } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import { errorKey } from "../shared/errors";

// `<web>/attachments/<id>`, the link of each attachment in an e-mail copy: the reader is signed in
// first (the sign-in screen keeps this address), then the file downloads with their own token, so
// the link outlives any presigned URL and gives the file only to a participant of its thread.
export function AttachmentDownload() {
  const { attachmentId = "" } = useParams();
  const { t, has } = useI18n();
  const file = useQuery({
    queryKey: ["attachment", attachmentId],
    queryFn: () => fetchAttachment(`/messaging/message-attachments/${encodeURIComponent(attachmentId)}`),
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const saved = useRef<DownloadedFile | null>(null);
  const name = file.data ? (file.data.fileName ?? "attachment") : "";

  useEffect(() => {
    // Once per fetched file, not again on a re-render.
    if (file.data && saved.current !== file.data) {
      saved.current = file.data;
      saveFile(file.data.blob, file.data.fileName ?? "attachment");
    }
  }, [file.data]);

  const notFound = file.error instanceof ApiError && file.error.status === 404;
  return (
    <section className="attachment-page" aria-labelledby="attachment-title">
      <h1 id="attachment-title">{t("attachment.title")}</h1>
      <div role="status" data-testid="attachment-status">
        {file.isPending && <p>{t("attachment.downloading")}</p>}
        {file.data && <p>{t("attachment.done", { name })}</p>}
      </div>
      {file.isError && (
        <p className="error" role="alert" data-testid="attachment-error">
          {notFound ? t("attachment.notFound") : t(errorKey(file.error, has))}
        </p>
      )}
      <p className="attachment-actions">
        {file.data && (
          <button type="button" className="button secondary" onClick={() => file.data && saveFile(file.data.blob, name)}>
            {t("attachment.again")}
          </button>
        )}
        <Link to="/" className="button primary">
          {t("attachment.backToInbox")}
        </Link>
      </p>
    </section>
  );
}
