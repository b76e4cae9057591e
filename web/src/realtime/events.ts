// The live events of the Message Center (issue #12): the same JSON arrives on the WebSocket and from
// the event feed (GET /messaging/events; schema also at /events.schema.json). The envelopes are
// written here so that `type` narrows them (the generated ones have it optional, with a default);
// what each carries is the generated schema's.
import type { Schemas, Thread } from "../api/client";

/** The subprotocol the client offers next to its access token, and the server answers with. */
export const SUBPROTOCOL = "message-center.v1";

export type Badge = Schemas["Badge"];

/** A thread as GET /messaging/threads/{threadId} shows it: with the interlocutor's read time
 * (null while either side has read receipts off; lists and events always carry null). */
export type ThreadDetails = Thread;

interface Envelope<Type extends string, Data> {
  /** Sortable and unique per recipient: delivery is at least once, so clients drop a repeated id. */
  id: string;
  type: Type;
  version: number;
  occurredAt: string;
  threadId: string;
  data: Data;
}

/** A message in one of my threads: the interlocutor's, or mine from another device (or this one). */
export type MessageCreated = Envelope<"message.created", Schemas["MessageCreatedData"]>;
/** I marked a thread read or unread (on any device). */
export type ThreadUpdated = Envelope<"thread.updated", Schemas["ThreadUpdatedData"]>;
/** I deleted a message for myself (on any device); ``thread`` is null when the thread is now hidden. */
export type MessageDeleted = Envelope<"message.deleted", Schemas["MessageDeletedData"]>;
/** Read receipt: the interlocutor read the thread. */
export type ThreadRead = Envelope<"thread.read", Schemas["ThreadReadData"]>;

export type KnownEvent = MessageCreated | ThreadUpdated | MessageDeleted | ThreadRead;

/** Any envelope: a type or version this client does not know yet is still deduplicated and
 * makes the client reload what it shows rather than guess. */
export type LiveEvent = KnownEvent | Envelope<string, unknown>;

export interface EventFeedPage {
  /** Oldest first. */
  events: LiveEvent[];
  /** Pass as `from` next time. */
  cursor: string;
}

export const EVENT_VERSION = 1;

/** A parsed frame of the socket: an event, the answer to a ping, or a refusal of the server. */
export type ServerFrame = { kind: "event"; event: LiveEvent } | { kind: "pong" } | { kind: "error"; code: string } | { kind: "unknown" };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isEnvelope(value: unknown): value is LiveEvent {
  return (
    isRecord(value) &&
    typeof value.id === "string" &&
    value.id !== "" &&
    typeof value.type === "string" &&
    typeof value.threadId === "string" &&
    typeof value.occurredAt === "string" &&
    "data" in value
  );
}

export function parseFrame(text: string): ServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "unknown" };
  }
  if (isEnvelope(value)) return { kind: "event", event: value };
  if (isRecord(value) && value.type === "pong") return { kind: "pong" };
  if (isRecord(value) && value.type === "error") return { kind: "error", code: typeof value.code === "string" ? value.code : "UNKNOWN" };
  return { kind: "unknown" };
}

/** The event narrowed to a kind this client applies, or null (unknown type or version). */
export function known(event: LiveEvent): KnownEvent | null {
  if (event.version !== EVENT_VERSION) return null;
  switch (event.type) {
    case "message.created":
    case "thread.updated":
    case "message.deleted":
    case "thread.read":
      return event as KnownEvent;
    default:
      return null;
  }
}
