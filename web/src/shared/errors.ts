import { ApiError } from "../api/client";
import type { MessageKey } from "../i18n/I18nProvider";

/** The message-file key of the sentence that explains an error to the user. */
export function errorKey(error: unknown, has: (key: string) => key is MessageKey): MessageKey {
  if (error instanceof ApiError) {
    const byCode = `error.${error.code}`;
    if (has(byCode)) return byCode;
    const byStatus = `error.status.${error.status}`;
    if (has(byStatus)) return byStatus;
  }
  return "error.generic";
}
