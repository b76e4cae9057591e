// The one module that talks to the Message Center API: typed by the generated OpenAPI schema,
// adds the bearer token, and turns every refusal (problem+json) into an ApiError.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen";

export type Schemas = components["schemas"];
export type Thread = Schemas["ThreadOut"];
export type Message = Schemas["MessageOut"];
export type Attachment = Schemas["AttachmentInfo"];
export type Profile = Schemas["ProfileOut"];
export type Language = Schemas["Language"];
export type NewMessage = Schemas["NewMessage"];
export type Translation = Schemas["TranslationOut"];

const MEDIA_TYPE = "application/vnd.allegro.public.v1+json";

/** A refusal of the API (RFC 9457 problem details), or a failure to reach it (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;

  constructor(status: number, code: string, detail: string) {
    super(`${status} ${code}: ${detail}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }

  static async from(response: Response, body?: unknown): Promise<ApiError> {
    let problem: unknown = body;
    if (problem === undefined) {
      try {
        problem = await response.clone().json();
      } catch {
        problem = undefined;
      }
    }
    const fields = typeof problem === "object" && problem !== null ? (problem as Record<string, unknown>) : {};
    const code = typeof fields.code === "string" ? fields.code : response.status === 401 ? "UNAUTHORIZED" : `HTTP_${response.status}`;
    const detail = typeof fields.detail === "string" ? fields.detail : typeof fields.message === "string" ? fields.message : response.statusText;
    return new ApiError(response.status, code, detail);
  }
}

type TokenSource = () => Promise<string | null>;
let tokenSource: TokenSource = async () => null;
const unauthorizedListeners = new Set<() => void>();

/** Called once at start-up, before anything renders: where tokens come from. */
export function configureTokens(source: TokenSource): void {
  tokenSource = source;
}

/** Called on each 401 of the API; returns the unsubscribe function. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** The current access token (renewed when expired), or null when signed out. */
export function accessToken(): Promise<string | null> {
  return tokenSource();
}

export async function authorizationHeader(): Promise<Record<string, string>> {
  const token = await tokenSource();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await tokenSource();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    request.headers.set("Accept", `${MEDIA_TYPE}, application/problem+json`);
    return request;
  },
  async onResponse({ response }) {
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener());
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, headers: { "Content-Type": "application/json" } });
api.use(auth);

/** The data of a call, or its ApiError thrown. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw new ApiError(0, "NETWORK", error instanceof Error ? error.message : String(error));
  }
  if (!result.response.ok) throw await ApiError.from(result.response, result.error);
  return result.data as T;
}

/** Uploads a file: declared first (limits checked by the API), then PUT through the API, or
 * POSTed to the presigned form when it is larger than what API Gateway accepts in one request. */
export async function uploadAttachment(file: File, onProgress: (fraction: number) => void): Promise<string> {
  const declared = await unwrap(api.POST("/messaging/message-attachments", { body: { filename: file.name, size: file.size } }));
  if (file.size <= PUT_LIMIT_BYTES) {
    await send("PUT", `/messaging/message-attachments/${encodeURIComponent(declared.id)}`, file, { "Content-Type": file.type || "application/octet-stream", ...(await authorizationHeader()) }, onProgress);
  } else {
    const form = new FormData();
    for (const [name, value] of Object.entries(declared.upload.fields)) form.append(name, String(value));
    form.append("file", file);
    await send("POST", declared.upload.url, form, {}, onProgress);
  }
  return declared.id;
}

export const PUT_LIMIT_BYTES = 5 * 1024 * 1024;

function send(method: string, url: string, body: Blob | FormData, headers: Record<string, string>, onProgress: (fraction: number) => void): Promise<void> {
  // XMLHttpRequest, not fetch: only it reports upload progress.
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      reject(new ApiError(request.status, problemCode(request.responseText) ?? `HTTP_${request.status}`, request.statusText));
    };
    request.onerror = () => reject(new ApiError(0, "NETWORK", "upload failed"));
    request.send(body);
  });
}

function problemCode(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { code?: unknown }).code === "string") return (parsed as { code: string }).code;
  } catch {
    return undefined;
  }
  return undefined;
}

export interface DownloadedFile {
  blob: Blob;
  /** The name the file was sent under, when the download link says it. */
  fileName: string | null;
}

/** Fetches an attachment with the caller's token. The API answers with a redirect to a short-lived
 * link; fetch follows it (the browser drops the Authorization header on the way to the other origin)
 * and the link's own response-content-disposition names the file. */
export async function fetchAttachment(attachmentUrl: string): Promise<DownloadedFile> {
  let response: Response;
  try {
    response = await fetch(attachmentUrl, { headers: await authorizationHeader() });
  } catch (error) {
    throw new ApiError(0, "NETWORK", error instanceof Error ? error.message : String(error));
  }
  if (response.status === 401) unauthorizedListeners.forEach((listener) => listener());
  if (!response.ok) throw await ApiError.from(response);
  const disposition = response.headers.get("Content-Disposition") ?? new URL(response.url).searchParams.get("response-content-disposition");
  return { blob: await response.blob(), fileName: disposition ? fileNameOf(disposition) : null };
}

/** The file name of a Content-Disposition value: the RFC 5987 UTF-8 form when present. */
export function fileNameOf(disposition: string): string | null {
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (extended) {
    try {
      return decodeURIComponent(extended.trim());
    } catch {
      // a malformed encoding: fall back to the plain name
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(disposition);
  const name = (plain?.[1] ?? plain?.[2] ?? "").trim();
  return name || null;
}

/** Makes the browser save ``blob`` under ``fileName``. */
export function saveFile(blob: Blob, fileName: string): void {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** Downloads an attachment and saves it under ``fileName``. */
export async function downloadAttachment(attachmentUrl: string, fileName: string): Promise<void> {
  const { blob } = await fetchAttachment(attachmentUrl);
  saveFile(blob, fileName);
}
