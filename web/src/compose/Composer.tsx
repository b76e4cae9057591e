import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type KeyboardEvent } from "react";
import { api, unwrap } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import { errorKey } from "../shared/errors";
import { AttachmentPicker } from "./AttachmentPicker";
import { useAttachments } from "./useAttachments";

/** Write in a thread. On a refusal the sentence is shown and the text stays. */
export function Composer({ threadId }: { threadId: string }) {
  const { t, has } = useI18n();
  const queryClient = useQueryClient();
  const attachments = useAttachments();
  const [text, setText] = useState("");
  // One key per draft: a retried send is stored once.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const send = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/messaging/threads/{threadId}/messages", {
          params: { path: { threadId }, header: { "idempotency-key": idempotencyKey } },
          body: { text, attachments: attachments.ready },
        }),
      ),
    onSuccess: () => {
      setText("");
      attachments.clear();
      setIdempotencyKey(crypto.randomUUID());
      void queryClient.invalidateQueries({ queryKey: ["messages", threadId] });
      void queryClient.invalidateQueries({ queryKey: ["threads"] });
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (text.trim() && !attachments.uploading) send.mutate();
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submit(event);
  }

  return (
    <form className="composer" onSubmit={submit} aria-label={t("compose.reply")}>
      <label htmlFor="reply-text" className="visually-hidden">
        {t("compose.text")}
      </label>
      <textarea id="reply-text" rows={3} maxLength={2000} placeholder={t("compose.placeholder")} value={text} onChange={(event) => setText(event.target.value)} onKeyDown={keyDown} />
      {send.isError && (
        <p className="error" role="alert">
          {t(errorKey(send.error, has))}
        </p>
      )}
      <div className="composer-bar">
        <AttachmentPicker attachments={attachments} />
        <button type="submit" className="button primary" disabled={send.isPending || attachments.uploading || !text.trim()}>
          {send.isPending ? t("compose.sending") : t("compose.send")}
        </button>
      </div>
    </form>
  );
}
