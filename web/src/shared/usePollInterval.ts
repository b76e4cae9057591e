import { useConfig } from "../auth/AuthProvider";
import { useRealtimeStatus } from "../realtime/RealtimeProvider";

/** How often to poll (ms), or false while the live socket is open (its events keep the cache
 * current; polling is only the fallback). TanStack Query pauses interval refetches while the tab is
 * hidden (refetchIntervalInBackground is false), and refetches when it becomes visible again. */
export function usePollInterval(): number | false {
  const seconds = useConfig().pollSeconds ?? 10;
  return useRealtimeStatus() === "open" ? false : seconds * 1000;
}
