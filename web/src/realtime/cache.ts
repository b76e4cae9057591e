// Applies live events to what TanStack Query holds, so the open thread, the inbox and the badge
// change without asking the API again. Where a patch could leave a list wrong (a filter the client
// cannot evaluate, a page boundary that would move), the affected query is reloaded instead.
import type { InfiniteData, Query, QueryClient, QueryKey } from "@tanstack/react-query";
import type { Message, Profile, Schemas, Thread } from "../api/client";
import { PAGE_SIZE as THREADS_PAGE_SIZE, type InboxFilters } from "../inbox/useThreads";
import { MESSAGES_PAGE_SIZE } from "../thread/useThread";
import { known, type Badge, type LiveEvent, type ThreadDetails } from "./events";

type ThreadsList = Schemas["ThreadsList"];
type MessagesList = Schemas["MessagesList"];

/** The queries live events change: reloaded when the client cannot catch up event by event. */
const LIVE_QUERIES: QueryKey[] = [["badge"], ["me"], ["threads"], ["thread"], ["messages"]];

export function isUnread(thread: Thread): boolean {
  return !thread.read || thread.unreadCount > 0;
}

function newer(a: string, b: string): boolean {
  return Date.parse(a) > Date.parse(b);
}

/** Newest first: messages by creation, threads by their last message. */
function before(a: { at: string | null | undefined; id: string }, b: { at: string | null | undefined; id: string }): boolean {
  const left = a.at ? Date.parse(a.at) : 0;
  const right = b.at ? Date.parse(b.at) : 0;
  return left !== right ? left > right : a.id > b.id;
}

/** The pages without ``id``, and with ``item`` (if any) put in its place (newest first) when it
 * belongs among the loaded ones; null when a reload is needed instead (a full last page that got
 * shorter would look like the end of the list). */
function placed<T extends { id: string }>(pages: T[][], pageSize: number, id: string, item: T | null, at: (value: T) => string | null | undefined): T[][] | null {
  const lastIndex = pages.length - 1;
  const moreAfter = (pages[lastIndex]?.length ?? 0) >= pageSize;
  const result = pages.map((page) => page.filter((value) => value.id !== id));
  if (item !== null) {
    const key = { at: at(item), id: item.id };
    const goesBefore = (value: T) => before(key, { at: at(value), id: value.id });
    const page = result.find((values) => values.some(goesBefore));
    if (page) page.splice(page.findIndex(goesBefore), 0, item);
    // Older than everything loaded: it is the end of the list only when nothing more is to come.
    else if (!moreAfter) result[lastIndex]?.push(item);
  }
  if (moreAfter && (result[lastIndex]?.length ?? 0) < (pages[lastIndex]?.length ?? 0)) return null;
  return result;
}

function matches(filters: InboxFilters | undefined, thread: Thread): boolean | null {
  if (!filters) return true;
  // "Without my reply" depends on who wrote last, which a thread does not say: reload.
  if (filters.withoutMyReply) return null;
  if (filters.login && thread.interlocutor?.login !== filters.login) return false;
  if (filters.unread && !isUnread(thread)) return false;
  return true;
}

export interface CacheUpdater {
  event: (event: LiveEvent) => void;
  resync: () => void;
}

export function createCacheUpdater(queryClient: QueryClient): CacheUpdater {
  // The newest event applied per thread and to the badge: an older one (from the feed after a live
  // one) does not put an old state back.
  const threadEvents = new Map<string, string>();
  let badgeEvent = "";

  function reload(key: QueryKey, exact = false) {
    void queryClient.invalidateQueries({ queryKey: key, exact });
  }

  function setBadge(badge: Badge, eventId: string) {
    if (eventId < badgeEvent) return;
    badgeEvent = eventId;
    queryClient.setQueryData<Badge>(["badge"], { unreadThreads: badge.unreadThreads });
    queryClient.setQueryData<Profile>(["me"], (old) => (old ? { ...old, unreadThreads: badge.unreadThreads } : old));
  }

  function fresh(threadId: string, eventId: string): boolean {
    const last = threadEvents.get(threadId);
    if (last !== undefined && eventId < last) return false;
    threadEvents.set(threadId, eventId);
    return true;
  }

  /** The thread as the inbox lists it now (``thread`` null: hidden), in every loaded list. */
  function showThread(threadId: string, thread: Thread | null) {
    if (thread) {
      // The details keep the read time: lists and events do not carry it.
      queryClient.setQueryData<ThreadDetails>(["thread", threadId], (old) => (old ? { ...old, ...thread, interlocutorLastReadAt: old.interlocutorLastReadAt } : old));
    }
    for (const query of queryClient.getQueryCache().findAll({ queryKey: ["threads"] }) as Query<unknown, Error, InfiniteData<ThreadsList>>[]) {
      const data = query.state.data;
      if (!data) continue;
      const filters = query.queryKey[1] as InboxFilters | undefined;
      const fits = thread ? matches(filters, thread) : false;
      const pages = fits === null ? null : placed(data.pages.map((page) => page.threads), THREADS_PAGE_SIZE, threadId, fits && thread ? thread : null, (value) => value.lastMessageDateTime);
      if (pages === null) {
        reload(query.queryKey, true);
        continue;
      }
      queryClient.setQueryData<InfiniteData<ThreadsList>>(query.queryKey, { ...data, pages: data.pages.map((page, index) => ({ ...page, threads: pages[index] ?? [] })) });
    }
  }

  function addMessage(threadId: string, message: Message) {
    const key = ["messages", threadId];
    const data = queryClient.getQueryData<InfiniteData<MessagesList>>(key);
    if (!data) return; // not loaded: it comes with the thread when it is opened
    if (data.pages.some((page) => page.messages.some((value) => value.id === message.id))) return;
    const pages = placed(data.pages.map((page) => page.messages), MESSAGES_PAGE_SIZE, message.id, message, (value) => value.createdAt);
    if (pages === null) return reload(key, true);
    queryClient.setQueryData<InfiniteData<MessagesList>>(key, { ...data, pages: data.pages.map((page, index) => ({ ...page, messages: pages[index] ?? [] })) });
  }

  function removeMessage(threadId: string, messageId: string) {
    const key = ["messages", threadId];
    const data = queryClient.getQueryData<InfiniteData<MessagesList>>(key);
    if (!data) return;
    const pages = placed(data.pages.map((page) => page.messages), MESSAGES_PAGE_SIZE, messageId, null, (value) => value.createdAt);
    if (pages === null) return reload(key, true);
    queryClient.setQueryData<InfiniteData<MessagesList>>(key, { ...data, pages: data.pages.map((page, index) => ({ ...page, messages: pages[index] ?? [] })) });
  }

  function readAt(threadId: string, at: string) {
    queryClient.setQueryData<ThreadDetails>(["thread", threadId], (old) => (old && (!old.interlocutorLastReadAt || newer(at, old.interlocutorLastReadAt)) ? { ...old, interlocutorLastReadAt: at } : old));
  }

  function resync() {
    LIVE_QUERIES.forEach((key) => reload(key));
  }

  function event(raw: LiveEvent) {
    const event = known(raw);
    if (!event) {
      // A kind this version of the client does not know: what it changed is read again.
      resync();
      return;
    }
    switch (event.type) {
      case "message.created":
        addMessage(event.threadId, event.data.message);
        if (fresh(event.threadId, event.id)) showThread(event.threadId, event.data.thread);
        setBadge(event.data.badge, event.id);
        break;
      case "thread.updated":
        if (fresh(event.threadId, event.id)) showThread(event.threadId, event.data.thread);
        setBadge(event.data.badge, event.id);
        break;
      case "message.deleted":
        removeMessage(event.threadId, event.data.messageId);
        if (fresh(event.threadId, event.id)) showThread(event.threadId, event.data.thread ?? null);
        setBadge(event.data.badge, event.id);
        break;
      case "thread.read":
        readAt(event.threadId, event.data.readAt);
        break;
    }
  }

  return { event, resync };
}
