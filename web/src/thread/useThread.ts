import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Language, type Message } from "../api/client";
import { usePollInterval } from "../shared/usePollInterval";

const PAGE_SIZE = 20;

export function useThreadDetails(threadId: string) {
  return useQuery({ queryKey: ["thread", threadId], queryFn: () => unwrap(api.GET("/messaging/threads/{threadId}", { params: { path: { threadId } } })) });
}

/** The thread's messages oldest → newest (pages of the newest first, older ones with `before`), polled. */
export function useMessages(threadId: string) {
  const interval = usePollInterval();
  const query = useInfiniteQuery({
    queryKey: ["messages", threadId],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrap(api.GET("/messaging/threads/{threadId}/messages", { params: { path: { threadId }, query: { limit: PAGE_SIZE, before: pageParam } } })),
    getNextPageParam: (last) => {
      const oldest: Message | undefined = last.messages[last.messages.length - 1];
      return last.messages.length === PAGE_SIZE && oldest ? oldest.createdAt : undefined;
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
      queryClient.setQueryData(["thread", threadId], thread);
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
