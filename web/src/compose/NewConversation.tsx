import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, unwrap, type NewMessage } from "../api/client";
import { useI18n } from "../i18n/I18nProvider";
import { errorKey } from "../shared/errors";
import { AttachmentPicker } from "./AttachmentPicker";
import { useAttachments } from "./useAttachments";

/** Start a conversation: /new?offer=ID (ask a question), /new?order=ID (ask about a purchase), or —
 * for a business seller — /new (optionally ?recipient=LOGIN&order=ID) with the buyer's login and order. */
export function NewConversation() {
  const { t, has } = useI18n();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const profile = useQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/messaging/me")) });
  const offer = params.get("offer");
  const fixedOrder = params.get("order");
  const mode = offer ? "offer" : fixedOrder && !params.get("recipient") ? "order" : "seller";
  const [recipient, setRecipient] = useState(params.get("recipient") ?? "");
  const [order, setOrder] = useState(fixedOrder ?? "");
  const [text, setText] = useState("");
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const attachments = useAttachments();

  const send = useMutation({
    mutationFn: () => {
      const body: NewMessage = { text, attachments: attachments.ready };
      if (mode === "offer" && offer) body.offer = { id: offer };
      if (mode === "order" && fixedOrder) body.order = { id: fixedOrder };
      if (mode === "seller") {
        body.recipient = { login: recipient.trim() };
        if (order.trim()) body.order = { id: order.trim() };
      }
      return unwrap(api.POST("/messaging/messages", { params: { header: { "idempotency-key": idempotencyKey } }, body }));
    },
    onSuccess: (message) => {
      void queryClient.invalidateQueries({ queryKey: ["threads"] });
      navigate(`/threads/${encodeURIComponent(message.thread.id)}`);
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    if (text.trim() && !attachments.uploading) send.mutate();
  }

  const title = mode === "offer" ? t("compose.askQuestion") : mode === "order" ? t("compose.askAboutPurchase") : t("compose.newMessage");
  return (
    <section className="compose-page" aria-labelledby="compose-title">
      <header className="thread-head">
        <Link to="/" className="icon-button back" aria-label={t("thread.back")}>
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path fill="currentColor" d="M15.4 5.4 14 4l-8 8 8 8 1.4-1.4L8.8 12z" />
          </svg>
        </Link>
        <h1 id="compose-title">{title}</h1>
      </header>
      <form className="compose-form" onSubmit={submit}>
        {mode === "offer" && <p className="context-card">{t("compose.aboutOffer", { id: offer ?? "" })}</p>}
        {mode === "order" && <p className="context-card">{t("compose.aboutOrder", { id: fixedOrder ?? "" })}</p>}
        {mode === "seller" && (
          <>
            <p className="muted">{profile.data && !profile.data.businessAccount ? t("compose.sellerHintPrivate") : t("compose.sellerHint")}</p>
            <label htmlFor="recipient">{t("compose.recipient")}</label>
            <input id="recipient" value={recipient} onChange={(event) => setRecipient(event.target.value)} required autoComplete="off" />
            <label htmlFor="order">{t("compose.order")}</label>
            <input id="order" value={order} onChange={(event) => setOrder(event.target.value)} autoComplete="off" />
          </>
        )}
        <label htmlFor="new-text">{t("compose.text")}</label>
        <textarea id="new-text" rows={6} maxLength={2000} value={text} onChange={(event) => setText(event.target.value)} placeholder={t("compose.placeholder")} required />
        <p className="muted small counter">{t("compose.counter", { count: text.trim().length })}</p>
        <AttachmentPicker attachments={attachments} />
        {send.isError && (
          <p className="error" role="alert" data-testid="send-error">
            {t(errorKey(send.error, has))}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={send.isPending || attachments.uploading || !text.trim()}>
            {send.isPending ? t("compose.sending") : t("compose.send")}
          </button>
        </div>
      </form>
    </section>
  );
}
