import { useConfig } from "../auth/AuthProvider";

/** How often to poll (ms). TanStack Query pauses interval refetches while the tab is hidden
 * (refetchIntervalInBackground is false), and refetches when it becomes visible again. */
export function usePollInterval(): number {
  return (useConfig().pollSeconds ?? 10) * 1000;
}
