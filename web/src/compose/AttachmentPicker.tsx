import { useId, useRef, useState, type DragEvent } from "react";
import { useI18n } from "../i18n/I18nProvider";
import { errorKey } from "../shared/errors";
import { ALLOWED_EXTENSIONS, MAX_BYTES, MAX_FILES, type useAttachments } from "./useAttachments";

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

/** Attach by picker or by dropping files on the area; the limits are shown before anything is sent. */
export function AttachmentPicker({ attachments }: { attachments: ReturnType<typeof useAttachments> }) {
  const { t, has } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const hintId = useId();

  function drop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    if (event.dataTransfer.files.length > 0) attachments.add(event.dataTransfer.files);
  }

  return (
    <div className={over ? "drop-zone over" : "drop-zone"} onDragOver={(event) => { event.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)} onDrop={drop} data-testid="drop-zone">
      <input ref={input} type="file" multiple hidden accept={ALLOWED_EXTENSIONS.map((extension) => `.${extension}`).join(",")} onChange={(event) => { if (event.target.files) attachments.add(event.target.files); event.target.value = ""; }} data-testid="file-input" />
      <button type="button" className="button secondary small" onClick={() => input.current?.click()} aria-describedby={hintId}>
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path fill="currentColor" d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z" />
        </svg>
        {t("compose.attach")}
      </button>
      <span id={hintId} className="muted small">
        {t("compose.limits", { types: ALLOWED_EXTENSIONS.filter((extension) => extension !== "tif" && extension !== "jpeg").join(", ").toUpperCase(), size: MAX_BYTES / 1024 / 1024, count: MAX_FILES })}
      </span>
      {attachments.items.length > 0 && (
        <ul className="pending" aria-label={t("compose.attached")}>
          {attachments.items.map((item) => (
            <li key={item.key} className={item.error || item.refused ? "pending-item failed" : "pending-item"}>
              <span className="file-name">{item.file.name}</span>
              <span className="muted small">{size(item.file.size)}</span>
              {item.refused ? (
                <span className="error small">{t(`compose.refused.${item.refused}`)}</span>
              ) : item.error ? (
                <span className="error small">{t(errorKey(item.error, has))}</span>
              ) : item.id ? (
                <span className="ok small">{t("compose.uploaded")}</span>
              ) : (
                <progress max={1} value={item.progress} aria-label={t("compose.uploading", { name: item.file.name })} />
              )}
              <button type="button" className="link-button" onClick={() => attachments.remove(item.key)} aria-label={t("compose.removeNamed", { name: item.file.name })}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
