import { useCallback, useState } from "react";
import { uploadAttachment } from "../api/client";

export const ALLOWED_EXTENSIONS = ["pdf", "gif", "bmp", "tif", "tiff", "jpg", "jpeg", "png"];
export const MAX_BYTES = 25 * 1024 * 1024;
export const MAX_FILES = 10;

export interface PendingAttachment {
  key: string;
  file: File;
  progress: number;
  id?: string;
  error?: unknown;
  refused?: "type" | "size" | "count";
}

/** Files chosen for a message: checked against the limits first, then uploaded right away. */
export function useAttachments() {
  const [items, setItems] = useState<PendingAttachment[]>([]);

  const patch = useCallback((key: string, change: Partial<PendingAttachment>) => {
    setItems((current) => current.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const add = useCallback(
    (files: FileList | File[]) => {
      const chosen = Array.from(files);
      setItems((current) => {
        const next = [...current];
        for (const file of chosen) {
          const key = `${file.name}-${file.size}-${crypto.randomUUID()}`;
          const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
          const refused = !ALLOWED_EXTENSIONS.includes(extension) ? "type" : file.size > MAX_BYTES || file.size === 0 ? "size" : next.filter((item) => !item.refused).length >= MAX_FILES ? "count" : undefined;
          next.push({ key, file, progress: 0, refused });
          if (!refused) {
            uploadAttachment(file, (progress) => patch(key, { progress })).then(
              (id) => patch(key, { id, progress: 1 }),
              (error: unknown) => patch(key, { error }),
            );
          }
        }
        return next;
      });
    },
    [patch],
  );

  const remove = useCallback((key: string) => setItems((current) => current.filter((item) => item.key !== key)), []);
  const clear = useCallback(() => setItems([]), []);
  const ready = items.filter((item) => item.id).map((item) => ({ id: item.id as string }));
  const uploading = items.some((item) => !item.id && !item.error && !item.refused);
  return { items, add, remove, clear, ready, uploading };
}
