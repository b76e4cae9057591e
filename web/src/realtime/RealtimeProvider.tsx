import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { accessToken } from "../api/client";
import { useConfig } from "../auth/AuthProvider";
import { createCacheUpdater } from "./cache";
import { RealtimeConnection, type RealtimeStatus } from "./connection";
import { fetchEventPage, socketUrl } from "./feed";

const StatusContext = createContext<RealtimeStatus>("off");

/** Keeps the signed-in user's socket open while mounted and applies its events to the query cache. */
export function RealtimeProvider({ children }: { children: ReactNode }) {
  const { websocketUrl } = useConfig();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<RealtimeStatus>("off");

  useEffect(() => {
    if (!websocketUrl || typeof WebSocket === "undefined") return;
    const cache = createCacheUpdater(queryClient);
    const connection = new RealtimeConnection({
      url: socketUrl(websocketUrl),
      token: accessToken,
      feed: fetchEventPage,
      onEvent: cache.event,
      onResync: cache.resync,
      onStatus: setStatus,
    });
    connection.start();
    return () => connection.stop();
  }, [websocketUrl, queryClient]);

  return <StatusContext.Provider value={status}>{children}</StatusContext.Provider>;
}

/** "open" while live events arrive; anything else means the client polls. */
export function useRealtimeStatus(): RealtimeStatus {
  return useContext(StatusContext);
}
