/** What a SignalSocket can be given: its options and the host facilities it can be handed. */
import type { FetchLike } from './api';
import type { ReconnectPolicy } from './backoff';

/** The part of the WebSocket API the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface GetTokenOptions {
  /** True when the current token is about to expire and a new one is wanted (`token_expiring`). */
  refresh: boolean;
}

/** Returns a valid access token. Throw a `SignalStreamError` of kind `auth` when the session is over. */
export type GetToken = (opts: GetTokenOptions) => Promise<string>;

export interface SignalSocketOptions {
  /** The SignalStream API, e.g. `https://signals.example.com`; default `http://localhost:9001`. The stream URL is derived from it (`ws`/`wss`). */
  apiUrl?: string;
  getToken: GetToken;
  /** Use single-use tickets (`POST /api/auth/ws-ticket`) instead of putting the token in the URL. Default true. */
  useTicket?: boolean;
  /** Open the WebSocket at all; false means REST polling only. Default true. */
  useWebSocket?: boolean;
  /** Poll the REST list while the socket cannot open. Default true. */
  pollingFallback?: boolean;
  /** Polling period in ms. Default 30000. */
  pollInterval?: number;
  /** First reconnect delay bound in ms (default 3000). */
  reconnectInterval?: number;
  /** Reconnect delay cap in ms (default 30000). */
  maxReconnectInterval?: number;
  /** Replaces the default reconnect policy. */
  reconnectPolicy?: ReconnectPolicy;
  /** Server-side symbol filter; empty or absent means all symbols. */
  symbols?: string[];
  /** How many of the newest signals to load over REST before connecting (0: none). Default 10. */
  snapshotLimit?: number;
  /** Ask the REST list for premium signals only (snapshot). Default false. */
  premiumOnly?: boolean;
  /** Where the last seen seq is kept; default `localStorage` when available; `null` disables. */
  storage?: StorageLike | null;
  /** Storage key; default `signalstream:last_seq:<apiUrl>`. */
  storageKey?: string;
  /** Bound of the offline queue; the oldest message is dropped beyond it. Default 100. */
  maxQueueSize?: number;
  /** A socket that has not opened after this many ms counts as failed. Default 10000. */
  openTimeout?: number;
  /** Send application pings every `heartbeat_ms` and drop a connection silent for two intervals. Default true. */
  heartbeat?: boolean;
  /** Listen to the browser's `online` and `visibilitychange` events. Default true. */
  browserEvents?: boolean;
  /** Injection points (tests, non-browser hosts). */
  WebSocket?: WebSocketCtor;
  fetch?: FetchLike;
  random?: () => number;
  now?: () => number;
}
