// One WebSocket to the Message Center per signed-in tab: opened with a fresh access token each time,
// kept alive with pings, reopened with exponential backoff and jitter, and after each reopening caught
// up from the event feed before live events are applied again — so a dropped socket loses nothing.
// Framework-free: the React side (RealtimeProvider) gives it callbacks.
import { ApiError } from "../api/client";
import { SUBPROTOCOL, parseFrame, type EventFeedPage, type LiveEvent } from "./events";

/** off: no socket (not configured, or stopped); connecting: the first attempt; open: live;
 * reconnecting: the socket dropped or could not be opened, another attempt is scheduled. */
export type RealtimeStatus = "off" | "connecting" | "open" | "reconnecting";

export interface Timing {
  /** API Gateway closes a connection idle for 10 minutes: ping every 5. */
  pingMs: number;
  /** No pong (or any frame) this long after a ping: the connection is dead, open another. */
  pongTimeoutMs: number;
  /** Backoff: the first retry after about this long, doubling up to maxDelayMs (with jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A connection that stayed open this long starts the backoff from the beginning again. */
  stableMs: number;
  /** The feed serves an event only once it is a second old: look again this long after catching up. */
  settleMs: number;
  /** Live events may arrive slightly out of order (the producer batches for up to a second): the
   * cursor follows them only this far behind. */
  lagMs: number;
  /** More pages than this to catch up: reloading what is shown is cheaper. */
  maxCatchUpPages: number;
}

export const DEFAULT_TIMING: Timing = {
  pingMs: 5 * 60_000,
  pongTimeoutMs: 20_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableMs: 10_000,
  settleMs: 2_000,
  lagMs: 3_000,
  maxCatchUpPages: 50,
};

export interface RealtimeOptions {
  url: string;
  /** The current access token (renewed when expired), or null when signed out. */
  token: () => Promise<string | null>;
  /** One page of GET /messaging/events?from=<cursor>. */
  feed: (from: string) => Promise<EventFeedPage>;
  /** Each event once, oldest first after a catch-up. */
  onEvent: (event: LiveEvent) => void;
  /** Catching up is impossible (no cursor yet, the feed refused it, or far behind): reload what is shown. */
  onResync: () => void;
  onStatus: (status: RealtimeStatus) => void;
  timing?: Partial<Timing>;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  random?: () => number;
  now?: () => number;
}

const REMEMBERED_IDS = 2_000;
/** A close code of ours (4000–4999 are the application's): no pong in time. */
const CLOSE_NO_PONG = 4000;

export class RealtimeConnection {
  private readonly options: RealtimeOptions;
  private readonly timing: Timing;
  private readonly now: () => number;
  private socket: WebSocket | null = null;
  private status: RealtimeStatus = "off";
  private stopped = true;
  /** Bumped for each socket: callbacks of an abandoned one are ignored. */
  private generation = 0;
  private attempt = 0;
  private everOpened = false;
  private openedAt = 0;
  /** The feed's cursor: every event up to it has been applied. */
  private cursor: string | null = null;
  /** Live events newer than the cursor, with when they arrived (folded into the cursor after lagMs). */
  private recent: { id: string; at: number }[] = [];
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  /** Live events held back while the feed is read, applied after it. */
  private held: LiveEvent[] | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RealtimeOptions) {
    this.options = options;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.now = options.now ?? Date.now;
  }

  getStatus(): RealtimeStatus {
    return this.status;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.generation += 1;
    this.clearTimers();
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = null;
    this.held = null;
    socket?.close(1000);
    this.setStatus("off");
  }

  private readonly onOnline = () => this.reconnectNow();
  private readonly onVisible = () => {
    if (document.visibilityState === "visible") this.reconnectNow();
  };
  /** The browser lost the network: the socket is as good as gone. */
  private readonly onOffline = () => {
    if (this.socket) this.abandon();
  };

  private setStatus(status: RealtimeStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.options.onStatus(status);
  }

  private async connect(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    const generation = ++this.generation;
    this.setStatus(this.everOpened ? "reconnecting" : "connecting");
    const token = await this.options.token().catch(() => null);
    if (this.stopped || generation !== this.generation) return;
    if (!token) {
      this.scheduleReconnect();
      return;
    }
    let socket: WebSocket;
    try {
      // The token travels as the second subprotocol (a header), never in the URL.
      socket = (this.options.createSocket ?? ((url, protocols) => new WebSocket(url, protocols)))(this.options.url, [SUBPROTOCOL, token]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (generation === this.generation) this.opened(generation);
    };
    socket.onmessage = (message: MessageEvent) => {
      if (generation === this.generation && typeof message.data === "string") this.received(message.data);
    };
    socket.onclose = () => {
      if (generation === this.generation) this.dropped();
    };
  }

  private opened(generation: number): void {
    this.openedAt = this.now();
    this.everOpened = true;
    this.setStatus("open");
    this.pingTimer = setInterval(() => this.ping(), this.timing.pingMs);
    void this.catchUp(generation);
  }

  private ping(): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify({ action: "ping" }));
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => this.abandon(), this.timing.pongTimeoutMs);
  }

  private received(text: string): void {
    clearTimeout(this.pongTimer);
    const frame = parseFrame(text);
    if (frame.kind === "event") this.accept(frame.event, true);
  }

  /** Each event id once, whichever way it came; live ones wait while the feed is read. */
  private accept(event: LiveEvent, live: boolean): void {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    this.seenOrder.push(event.id);
    if (this.seenOrder.length > REMEMBERED_IDS) this.seen.delete(this.seenOrder.shift() as string);
    if (live) {
      this.recent.push({ id: event.id, at: this.now() });
      this.fold(this.now());
      if (this.held) {
        this.held.push(event);
        return;
      }
    }
    this.options.onEvent(event);
  }

  /** Moves the cursor past live events that arrived more than lagMs before ``at``: one that is
   * overtaken by a newer one in that time is still fetched from the feed (and then dropped as seen). */
  private fold(at: number): void {
    const keep: { id: string; at: number }[] = [];
    for (const entry of this.recent) {
      if (entry.at <= at - this.timing.lagMs) {
        if (this.cursor === null || entry.id > this.cursor) this.cursor = entry.id;
      } else {
        keep.push(entry);
      }
    }
    this.recent = keep;
  }

  private async catchUp(generation: number): Promise<void> {
    // Events came, but all just before the drop: read on from the oldest of them (the ones before it
    // arrived on this socket, or were read at its start).
    if (this.cursor === null && this.recent.length > 0) this.cursor = this.recent.reduce((oldest, entry) => (entry.id < oldest ? entry.id : oldest), this.recent[0]?.id ?? "");
    if (this.cursor === null) {
      // Nothing seen yet to continue from (the first connection, or none since): whatever happened
      // before this socket opened is read again from the API.
      this.recent = [];
      this.options.onResync();
      return;
    }
    this.held = [];
    await this.drain(generation);
    if (generation !== this.generation) return;
    const held = this.held ?? [];
    this.held = null;
    held.forEach((event) => this.options.onEvent(event));
    // Events of the last second before this socket opened reach the feed a moment later.
    this.settleTimer = setTimeout(() => void this.drain(generation), this.timing.settleMs);
  }

  /** Reads the feed from the cursor until it is empty; on failure reloads what is shown instead. */
  private async drain(generation: number): Promise<void> {
    try {
      for (let page = 0; page < this.timing.maxCatchUpPages; page += 1) {
        const from = this.cursor;
        if (from === null) break;
        const result = await this.options.feed(from);
        if (generation !== this.generation) return;
        result.events.forEach((event) => this.accept(event, false));
        this.cursor = result.cursor;
        this.recent = this.recent.filter((entry) => entry.id > result.cursor);
        if (result.events.length === 0) return;
      }
      this.options.onResync();
    } catch (error) {
      if (generation !== this.generation) return;
      // A cursor the feed no longer knows (older than its retention): start afresh.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) this.cursor = null;
      this.options.onResync();
    }
  }

  /** Gives up on the current socket at once (no pong, or offline) and schedules another. */
  private abandon(): void {
    const socket = this.socket;
    this.generation += 1;
    socket?.close(CLOSE_NO_PONG);
    this.dropped();
  }

  private dropped(): void {
    this.clearTimers();
    this.socket = null;
    this.held = null;
    const now = this.now();
    this.fold(now);
    if (this.openedAt !== 0 && now - this.openedAt >= this.timing.stableMs) this.attempt = 0;
    this.openedAt = 0;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setStatus(this.everOpened ? "reconnecting" : "connecting");
    const ceiling = Math.min(this.timing.maxDelayMs, this.timing.baseDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    // Half fixed, half random: tabs that lost the same server do not come back all at once.
    const delay = ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Back online or visible again: try now rather than at the end of the backoff. */
  private reconnectNow(): void {
    if (this.stopped || this.socket !== null) return;
    this.attempt = 0;
    void this.connect();
  }

  private clearTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.settleTimer);
  }
}
