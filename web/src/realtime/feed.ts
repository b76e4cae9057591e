// GET /messaging/events: the caller's events after a cursor, oldest first.
import { ApiError, api, unwrap } from "../api/client";
import { isEnvelope, type EventFeedPage } from "./events";

const FEED_PAGE = 100;

export async function fetchEventPage(from: string): Promise<EventFeedPage> {
  const page = await unwrap(api.GET("/messaging/events", { params: { query: { from, limit: FEED_PAGE } } }));
  // Checked all the same: an envelope this client cannot read must not move the cursor past it.
  const events: unknown[] = page.events;
  if (!events.every(isEnvelope)) throw new ApiError(200, "INVALID_FEED", "the event feed answered something else");
  return { events, cursor: page.cursor };
}

/** The socket's URL: absolute as configured, or relative to the page (http → ws, https → wss). */
export function socketUrl(configured: string): string {
  const url = new URL(configured, window.location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  return url.toString();
}
