// GET /messaging/events: the caller's events after a cursor, oldest first.
import { ApiError, MEDIA_TYPE, authorizationHeader } from "../api/client";
import { isEnvelope, type EventFeedPage } from "./events";

const FEED_PAGE = 100;

export async function fetchEventPage(from: string): Promise<EventFeedPage> {
  const url = new URL("/messaging/events", window.location.origin);
  url.searchParams.set("from", from);
  url.searchParams.set("limit", String(FEED_PAGE));
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...(await authorizationHeader()), Accept: `${MEDIA_TYPE}, application/problem+json` } });
  } catch (error) {
    throw new ApiError(0, "NETWORK", error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) throw await ApiError.from(response);
  const body: unknown = await response.json();
  const page = body as Partial<EventFeedPage>;
  if (!Array.isArray(page.events) || typeof page.cursor !== "string" || !page.events.every(isEnvelope)) {
    throw new ApiError(response.status, "INVALID_FEED", "the event feed answered something else");
  }
  return { events: page.events, cursor: page.cursor };
}

/** The socket's URL: absolute as configured, or relative to the page (http → ws, https → wss). */
export function socketUrl(configured: string): string {
  const url = new URL(configured, window.location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  return url.toString();
}
