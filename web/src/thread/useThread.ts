import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Language, type Message } from "../api/client";
import type { ThreadDetails } from "../realtime/events";
import { usePollInterval } from "../shared/usePollInterval";

export const MESSAGES_PAGE_SIZE = 20;

/** The thread, with the interlocutor's read time (live: thread.read events; otherwise polled). */
export function useThreadDetails(threadId: string) {
  const interval = usePollInterval();
  return useQuery<ThreadDetails>({
    queryKey: ["thread", threadId],
    queryFn: () => unwrap(api.GET("/messaging/threads/{threadId}", { params: { path: { threadId } } })),
    refetchInterval: interval,
  });
}

/** The thread's messages oldest → newest (pages of the newest first, older ones with `before`), polled. */
export function useMessages(threadId: string) {
  const interval = usePollInterval();
  const query = useInfiniteQuery({
    queryKey: ["messages", threadId],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrap(api.GET("/messaging/threads/{threadId}/messages", { params: { path: { threadId }, query: { limit: MESSAGES_PAGE_SIZE, before: pageParam } } })),
    getNextPageParam: (last) => {
      const oldest: Message | undefined = last.messages[last.messages.length - 1];
      // ">=": a live event may have added one to a full page.
      return last.messages.length >= MESSAGES_PAGE_SIZE && oldest ? oldest.createdAt : undefined;
    },
    refetchInterval: interval,
  });
  const messages = (query.data?.pages.flatMap((page) => page.messages) ?? []).slice().reverse();
  return { ...query, messages };
}

export function useMarkRead(threadId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (read: boolean) => unwrap(api.PUT("/messaging/threads/{threadId}/read", { params: { path: { threadId } }, body: { read } })),
    onSuccess: (thread) => {
      // The answer does not carry the interlocutor's read time: keep the one shown.
      queryClient.setQueryData<ThreadDetails>(["thread", threadId], (old) => ({ ...thread, interlocutorLastReadAt: old?.interlocutorLastReadAt ?? null }));
      void queryClient.invalidateQueries({ queryKey: ["badge"] });
      void queryClient.invalidateQueries({ queryKey: ["threads"] });
    },
  });
}

export function useDeleteMessage(threadId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (messageId: string) => unwrap(api.DELETE("/messaging/messages/{messageId}", { params: { path: { messageId } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["messages", threadId] });
      void queryClient.invalidateQueries({ queryKey: ["threads"] });
    },
  });
}

export function useTranslation(messageId: string, language: Language, enabled: boolean) {
  return useQuery({
    queryKey: ["translation", messageId, language],
    queryFn: () => unwrap(api.GET("/messaging/messages/{messageId}/translations/{language}", { params: { path: { messageId, language } } })),
    enabled,
    staleTime: Infinity,
  });
}
