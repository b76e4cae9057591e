import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap, type Thread } from "../api/client";
import { usePollInterval } from "../shared/usePollInterval";

export interface InboxFilters {
  login: string;
  unread: boolean;
  withoutMyReply: boolean;
}

export const PAGE_SIZE = 20;

/** Threads newest first, page after page with the `before` cursor; the first page is polled. */
export function useThreads(filters: InboxFilters) {
  const interval = usePollInterval();
  return useInfiniteQuery({
    queryKey: ["threads", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/messaging/threads", {
          params: {
            query: {
              limit: PAGE_SIZE,
              before: pageParam,
              "interlocutor.login": filters.login || undefined,
              unread: filters.unread || undefined,
              withoutMyReply: filters.withoutMyReply || undefined,
            },
          },
        }),
      ),
    getNextPageParam: (last) => {
      const oldest: Thread | undefined = last.threads[last.threads.length - 1];
      // ">=": a live event may have added one to a full page.
      return last.threads.length >= PAGE_SIZE && oldest?.lastMessageDateTime ? oldest.lastMessageDateTime : undefined;
    },
    refetchInterval: interval,
  });
}
