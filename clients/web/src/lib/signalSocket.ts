/**
 * SignalSocket: a framework-free client for SignalStream's `/ws/signals` stream.
 *
 * - fetches a single-use ticket (or falls back to the access token) before every connect;
 * - reconnects with a replaceable policy (default: exponential backoff with full jitter);
 * - resumes with `after_seq`, never emits the same `seq` twice, fills gaps through the REST list
 *   when the server answers `resync_required`;
 * - queues outgoing messages while disconnected (bounded) and sends them in order once connected;
 * - keeps the last seen `seq` in storage so a reloaded page catches up;
 * - refreshes its token when the server sends `token_expiring`;
 * - polls the REST list while the socket cannot open, and stops polling once it is connected.
 */
import { getWsTicket, listSignals, type FetchLike } from './api';
import { exponentialBackoff, isTerminalCloseCode, type ReconnectPolicy } from './backoff';
import { resolveApiBase, toWsUrl } from './config';
import { Emitter } from './emitter';
import { describeCloseCode, SignalStreamError } from './errors';
import type {
  ClientMessage,
  ConnectionStatus,
  ServerMessage,
  Signal,
  SignalOrigin,
  Tier,
  WelcomeMessage,
} from './types';

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

export interface SignalSocketOptions {
  /** API base URL; default: the page's origin when served over http(s), else `http://localhost:9001`. */
  apiBase?: string;
  /** Returns a valid access token. Throw a `SignalStreamError` of kind `auth` when the session is over. */
  getToken: (opts: GetTokenOptions) => Promise<string>;
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
  /** Storage key; default `signalstream:last_seq:<apiBase>`. */
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

export interface SignalMeta {
  origin: SignalOrigin;
  /** Local time (ms) at which the client received it. */
  receivedAtLocal: number;
}

export interface StatusInfo {
  status: ConnectionStatus;
  /** When the next socket attempt is due (ms since epoch), or null when none is scheduled. */
  nextRetryAt: number | null;
  /** Consecutive failed attempts. */
  attempt: number;
}

export interface SignalSocketEvents {
  signal: [signal: Signal, meta: SignalMeta];
  snapshot: [signals: Signal[]];
  status: [info: StatusInfo];
  error: [error: SignalStreamError];
  welcome: [message: WelcomeMessage];
  message: [message: ServerMessage];
  tier: [tier: Tier];
  /** The server's seq went backwards (a new database): everything known is stale. */
  reset: [];
  /** The offline queue was full; this message was dropped. */
  'queue-overflow': [dropped: ClientMessage];
}

const OPEN = 1;
const REST_PAGE = 500;
const SEEN_LIMIT = 5000;

/** Close codes after which the credentials are no good any more. */
function isAuthCloseCode(code: number): boolean {
  return code === 4500;
}

export class SignalSocket extends Emitter<SignalSocketEvents> {
  readonly apiBase: string;
  private readonly opts: SignalSocketOptions;
  private readonly policy: ReconnectPolicy;
  private readonly wsCtor: WebSocketCtor | undefined;
  private readonly storage: StorageLike | null;
  private readonly storageKey: string;
  private readonly now: () => number;
  private readonly pollInterval: number;
  private readonly maxQueue: number;

  private running = false;
  private ws: WebSocketLike | null = null;
  private welcomed = false;
  private everConnected = false;
  private connecting = false;
  private connectGen = 0;
  private attemptCount = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private retryAt: number | null = null;
  private currentStatus: ConnectionStatus = 'disconnected';
  private ticketsUnsupported = false;

  private polling = false;
  private pollOk = false;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private pollInFlight = false;

  private seq: number | null = null;
  private readonly seen = new Set<number>();
  private baselineLoaded = false;
  private baselinePromise: Promise<void> | null = null;
  private resyncing = false;
  private resyncBuffer: Signal[] = [];
  private welcomeLastSeq = 0;
  private lastFrameAt = 0;
  private heartbeatMs = 30000;
  private queue: ClientMessage[] = [];
  private symbolFilter: string[];
  private serverClockOffset = 0;
  private currentTier: Tier | null = null;
  private readonly detachBrowser: Array<() => void> = [];

  constructor(options: SignalSocketOptions) {
    super();
    this.opts = options;
    this.apiBase = resolveApiBase(options.apiBase);
    this.policy = options.reconnectPolicy ?? exponentialBackoff({
      reconnectInterval: options.reconnectInterval,
      maxReconnectInterval: options.maxReconnectInterval,
      random: options.random,
    });
    this.wsCtor = options.WebSocket ?? (typeof WebSocket !== 'undefined' ? (WebSocket as unknown as WebSocketCtor) : undefined);
    this.storage = options.storage !== undefined ? options.storage : defaultStorage();
    this.storageKey = options.storageKey ?? `signalstream:last_seq:${this.apiBase}`;
    this.now = options.now ?? (() => Date.now());
    this.pollInterval = options.pollInterval ?? 30000;
    this.maxQueue = Math.max(1, options.maxQueueSize ?? 100);
    this.symbolFilter = normalizeSymbols(options.symbols);
    this.seq = this.readStoredSeq();
  }

  // ---- public API -------------------------------------------------------------------------

  get status(): ConnectionStatus { return this.currentStatus; }
  /** When the next socket attempt is due (ms since epoch), for a countdown. */
  get nextRetryAt(): number | null { return this.retryAt; }
  /** The last seq seen (and persisted), or null before anything is known. */
  get lastSeq(): number | null { return this.seq; }
  /** Messages waiting for a connection. */
  get queuedMessages(): readonly ClientMessage[] { return this.queue; }
  get symbols(): readonly string[] { return this.symbolFilter; }
  /** Server time minus local time, estimated at `welcome` (ms). */
  get clockOffset(): number { return this.serverClockOffset; }
  get tier(): Tier | null { return this.currentTier; }
  get connected(): boolean { return this.welcomed; }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attachBrowserEvents();
    this.setStatus('connecting');
    if (this.opts.useWebSocket === false) {
      void this.startPolling();
    } else {
      void this.connect();
    }
  }

  /** Closes the socket, stops polling and timers. `start()` may be called again. */
  stop(): void {
    if (!this.running) return;
    this.shutDown();
  }

  /** Sends a message now when connected; otherwise queues it (bounded, oldest dropped) for the next connection. */
  send(message: ClientMessage): void {
    if (this.welcomed && this.ws && this.ws.readyState === OPEN) {
      this.ws.send(JSON.stringify(message));
      return;
    }
    this.queue.push(message);
    while (this.queue.length > this.maxQueue) {
      const dropped = this.queue.shift();
      if (dropped) this.emit('queue-overflow', dropped);
    }
  }

  /** Replaces the symbol filter (empty: all) and tells the server; kept for later connections. */
  subscribe(symbols: string[]): void {
    this.symbolFilter = normalizeSymbols(symbols);
    this.send({ type: 'subscribe', symbols: [...this.symbolFilter] });
  }

  ping(): void {
    this.send({ type: 'ping', ts: this.now() });
  }

  /** Tries the socket now (e.g. a "retry now" button); no-op when connected or connecting. */
  reconnectNow(): void {
    if (!this.running || this.welcomed || this.connecting) return;
    if (this.opts.useWebSocket === false) {
      void this.pollNow();
      return;
    }
    this.clearRetry();
    void this.connect();
  }

  /** Forgets the persisted seq (e.g. on log-out). */
  clearStoredSeq(): void {
    this.seq = null;
    this.seen.clear();
    try { this.storage?.removeItem(this.storageKey); } catch { /* storage unavailable */ }
  }

  // ---- connection ---------------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (!this.running || this.connecting || this.ws) return;
    if (!this.wsCtor) {
      this.fail(new SignalStreamError('internal', 'WebSocket is not available in this environment'));
      return;
    }
    const gen = ++this.connectGen;
    this.connecting = true;
    this.retryAt = null;
    this.emitStatus();
    let url: string;
    try {
      const token = await this.opts.getToken({ refresh: false });
      if (gen !== this.connectGen) return;
      await this.ensureBaseline(token);
      if (gen !== this.connectGen) return;
      url = await this.buildUrl(token);
      if (gen !== this.connectGen) return;
    } catch (err) {
      if (gen !== this.connectGen) return;
      this.connecting = false;
      const e = toError(err);
      if (e.kind === 'auth') {
        this.fail(e);
        return;
      }
      this.emit('error', e);
      // The server answered HTTP (it is up) but refused the ticket: the REST list may still work.
      this.afterFailure(undefined, false, e.kind !== 'unreachable');
      return;
    }

    let ws: WebSocketLike;
    try {
      ws = new this.wsCtor(url);
    } catch (err) {
      this.connecting = false;
      this.emit('error', new SignalStreamError('internal', 'Could not create the WebSocket', { cause: err }));
      this.afterFailure(undefined, false, true);
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    const timeout = this.opts.openTimeout ?? 10000;
    this.openTimer = setTimeout(() => {
      if (this.ws === ws && !this.welcomed) this.dropSocket(ws, 1006, 'open timeout');
    }, timeout);
    ws.onopen = () => { /* the connection counts as connected at `welcome` */ };
    ws.onerror = () => { /* a close event follows */ };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.onFrame(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.onSocketClosed(ev.code, ev.reason, this.welcomed);
    };
  }

  private async buildUrl(token: string): Promise<string> {
    const url = new URL(toWsUrl(this.apiBase));
    if (this.seq !== null) url.searchParams.set('after_seq', String(this.seq));
    if (this.symbolFilter.length > 0) url.searchParams.set('symbols', this.symbolFilter.join(','));
    if (this.opts.useTicket !== false && !this.ticketsUnsupported) {
      try {
        const t = await getWsTicket({ apiBase: this.apiBase, fetch: this.opts.fetch }, token);
        url.searchParams.set('ticket', t.ticket);
        return url.toString();
      } catch (err) {
        const e = toError(err);
        if (e.kind === 'http' && (e.status === 404 || e.status === 405)) {
          this.ticketsUnsupported = true; // an older server: fall back to the token in the URL
        } else {
          throw e;
        }
      }
    }
    url.searchParams.set('token', token);
    return url.toString();
  }

  /** Loads the newest signals once, and sets the resume point when none was stored. */
  private ensureBaseline(token: string): Promise<void> {
    if (this.baselineLoaded) return Promise.resolve();
    if (!this.baselinePromise) {
      this.baselinePromise = this.loadBaseline(token).finally(() => { this.baselinePromise = null; });
    }
    return this.baselinePromise;
  }

  private async loadBaseline(token: string): Promise<void> {
    const limit = this.opts.snapshotLimit ?? 10;
    if (limit > 0) {
      const page = await listSignals({ apiBase: this.apiBase, fetch: this.opts.fetch }, token, {
        limit,
        premiumOnly: this.opts.premiumOnly,
      });
      const signals = [...page.signals].sort((a, b) => b.seq - a.seq);
      const maxSeq = signals.reduce((m, s) => Math.max(m, s.seq), 0);
      if (this.seq !== null && page.last_seq !== undefined && page.last_seq < this.seq) {
        this.resetSeq(page.last_seq);
      }
      for (const s of signals) this.remember(s.seq);
      if (this.seq === null) this.setSeq(Math.max(page.last_seq ?? 0, maxSeq));
      this.emit('snapshot', signals);
    }
    this.baselineLoaded = true;
  }

  private onFrame(data: unknown): void {
    this.lastFrameAt = this.now();
    if (typeof data !== 'string') return;
    let msg: ServerMessage;
    try {
      msg = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    this.emit('message', msg);
    switch (msg.type) {
      case 'welcome':
        this.onWelcome(msg);
        break;
      case 'signal': {
        const signal = msg.signal;
        if (!signal) break;
        if (typeof signal.seq !== 'number' && typeof msg.seq === 'number') signal.seq = msg.seq;
        if (this.resyncing) {
          this.resyncBuffer.push(signal);
        } else {
          this.accept(signal, signal.seq <= this.welcomeLastSeq ? 'replay' : 'live');
        }
        break;
      }
      case 'resync_required':
        void this.resync();
        break;
      case 'tier_changed':
        this.currentTier = msg.tier;
        this.emit('tier', msg.tier);
        break;
      case 'token_expiring':
        void this.refreshToken();
        break;
      default:
        break;
    }
  }

  private onWelcome(msg: WelcomeMessage): void {
    const ws = this.ws;
    if (!ws) return;
    this.clearOpenTimer();
    this.connecting = false;
    this.welcomed = true;
    this.everConnected = true;
    this.attemptCount = 0;
    this.clearRetry();
    this.welcomeLastSeq = typeof msg.last_seq === 'number' ? msg.last_seq : 0;
    this.currentTier = msg.tier ?? this.currentTier;
    const serverTime = Date.parse(msg.server_time);
    if (Number.isFinite(serverTime)) this.serverClockOffset = serverTime - this.now();
    let reset = false;
    if (this.seq !== null && this.welcomeLastSeq < this.seq) {
      // The server's history is shorter than what we saw: a new database. Start over from its head.
      this.resetSeq(this.welcomeLastSeq);
      reset = true;
    } else if (this.seq === null) {
      this.setSeq(this.welcomeLastSeq);
    }
    this.stopPolling();
    // Queued messages go first, so anything sent from a status listener comes after them.
    const pending = this.queue.splice(0);
    for (const m of pending) ws.send(JSON.stringify(m));
    this.setStatus('connected');
    this.emit('welcome', msg);
    this.startHeartbeat(msg.heartbeat_ms);
    if (reset) void this.reloadSnapshot();
  }

  private async reloadSnapshot(): Promise<void> {
    this.baselineLoaded = false;
    this.baselinePromise = null;
    try {
      await this.ensureBaseline(await this.opts.getToken({ refresh: false }));
    } catch (err) {
      this.emit('error', toError(err));
    }
  }

  private onSocketClosed(code: number, reason: string, wasConnected: boolean): void {
    this.detachSocket();
    if (!this.running) return;
    this.connecting = false;
    if (isTerminalCloseCode(code)) {
      const kind = isAuthCloseCode(code) ? 'auth' : 'closed';
      this.fail(new SignalStreamError(kind, describeCloseCode(code, reason), { closeCode: code }));
      return;
    }
    // 4001 (token expired) is not terminal: the next attempt asks getToken() for a valid token,
    // which either refreshes it or reports that the session is over.
    this.afterFailure(code, wasConnected, !wasConnected);
  }

  /** Schedules the next attempt per the policy; starts polling when the socket could not open. */
  private afterFailure(code: number | undefined, wasConnected: boolean, serverAnswered: boolean): void {
    if (!this.running) return;
    const delay = this.policy({ attempt: this.attemptCount, code, wasConnected });
    this.attemptCount++;
    if (delay === null) {
      this.fail(new SignalStreamError('closed', describeCloseCode(code ?? 1006), { closeCode: code }));
      return;
    }
    this.scheduleRetry(delay);
    if (!wasConnected && serverAnswered && this.opts.pollingFallback !== false) {
      void this.startPolling();
    }
    this.setStatus(this.polling && this.pollOk ? 'polling' : 'reconnecting');
  }

  private scheduleRetry(delay: number): void {
    this.clearRetry();
    const ms = Math.max(0, delay);
    this.retryAt = this.now() + ms;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      void this.connect();
    }, ms);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  private clearOpenTimer(): void {
    if (this.openTimer !== null) clearTimeout(this.openTimer);
    this.openTimer = null;
  }

  /** Forgets the current socket without waiting for its close event, then handles the loss. */
  private dropSocket(ws: WebSocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return;
    const wasConnected = this.welcomed;
    this.closeSocket(4000, reason);
    this.onSocketClosed(code, reason, wasConnected);
  }

  private closeSocket(code: number, reason: string): void {
    const ws = this.ws;
    this.detachSocket();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try { ws.close(code, reason); } catch { /* already closed */ }
  }

  private detachSocket(): void {
    this.clearOpenTimer();
    this.stopHeartbeat();
    this.ws = null;
    this.welcomed = false;
    this.connecting = false;
    this.resyncing = false;
    this.resyncBuffer = [];
  }

  private fail(error: SignalStreamError): void {
    this.emit('error', error);
    this.shutDown();
  }

  /** Ends the session: socket, polling, timers and browser listeners. */
  private shutDown(): void {
    this.running = false;
    this.connectGen++;
    this.clearRetry();
    this.stopPolling();
    for (const d of this.detachBrowser.splice(0)) d();
    this.closeSocket(1000, 'client stopped');
    this.setStatus('disconnected');
  }

  // ---- heartbeat, token refresh --------------------------------------------------------------

  private startHeartbeat(heartbeatMs: number | undefined): void {
    this.stopHeartbeat();
    if (this.opts.heartbeat === false) return;
    this.heartbeatMs = heartbeatMs && heartbeatMs > 0 ? heartbeatMs : 30000;
    this.lastFrameAt = this.now();
    const ws = this.ws;
    this.heartbeatTimer = setInterval(() => {
      if (!ws || this.ws !== ws) return;
      if (this.now() - this.lastFrameAt > 2 * this.heartbeatMs) {
        this.dropSocket(ws, 1006, 'heartbeat timeout');
        return;
      }
      if (ws.readyState === OPEN) ws.send(JSON.stringify({ type: 'ping', ts: this.now() }));
    }, this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async refreshToken(): Promise<void> {
    const ws = this.ws;
    try {
      const token = await this.opts.getToken({ refresh: true });
      if (ws && this.ws === ws && ws.readyState === OPEN) {
        ws.send(JSON.stringify({ type: 'refresh', token }));
      }
    } catch (err) {
      // Not fatal yet: the server closes with 4001 when the token runs out, and the next
      // connect attempt decides whether the session is over.
      this.emit('error', toError(err));
    }
  }

  // ---- seq bookkeeping ----------------------------------------------------------------------

  /** Emits a signal unless its seq was already seen; advances and persists the resume point. */
  private accept(signal: Signal, origin: SignalOrigin): boolean {
    const seq = signal.seq;
    if (typeof seq !== 'number' || !Number.isFinite(seq)) return false;
    if (this.seq !== null && seq <= this.seq) return false;
    this.setSeq(seq);
    if (this.seen.has(seq)) return false; // already delivered by the snapshot
    this.remember(seq);
    this.emit('signal', signal, { origin, receivedAtLocal: this.now() });
    return true;
  }

  private remember(seq: number): void {
    this.seen.add(seq);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private setSeq(seq: number): void {
    this.seq = seq;
    try { this.storage?.setItem(this.storageKey, String(seq)); } catch { /* quota or privacy mode */ }
  }

  private resetSeq(seq: number): void {
    this.seen.clear();
    this.setSeq(seq);
    this.emit('reset');
  }

  private readStoredSeq(): number | null {
    try {
      const raw = this.storage?.getItem(this.storageKey);
      if (raw === null || raw === undefined) return null;
      const n = Number(raw);
      return Number.isSafeInteger(n) && n >= 0 ? n : null;
    } catch {
      return null;
    }
  }

  /** Fetches every signal after the resume point through the REST list, oldest first, 500 at a time. */
  private async catchUpOverRest(origin: SignalOrigin, stillWanted: () => boolean): Promise<void> {
    const token = await this.opts.getToken({ refresh: false });
    for (;;) {
      if (!stillWanted()) return;
      const after = this.seq ?? 0;
      const page = await listSignals({ apiBase: this.apiBase, fetch: this.opts.fetch }, token, {
        afterSeq: after,
        limit: REST_PAGE,
      });
      if (!stillWanted()) return;
      if (page.last_seq !== undefined && page.last_seq < after) {
        this.resetSeq(page.last_seq);
        return;
      }
      const signals = [...page.signals].sort((a, b) => a.seq - b.seq);
      for (const s of signals) this.accept(s, origin);
      if (signals.length < REST_PAGE) return;
    }
  }

  private async resync(): Promise<void> {
    const ws = this.ws;
    if (!ws || this.resyncing) return;
    this.resyncing = true;
    this.resyncBuffer = [];
    try {
      await this.catchUpOverRest('resync', () => this.ws === ws);
    } catch (err) {
      if (this.ws !== ws) return;
      const e = toError(err);
      this.emit('error', e);
      if (e.kind === 'auth') {
        this.fail(e);
        return;
      }
      // Start over: the next connection resumes from what we have.
      this.dropSocket(ws, 1006, 'resync failed');
      return;
    }
    if (this.ws !== ws) return;
    this.resyncing = false;
    const buffered = this.resyncBuffer.splice(0);
    for (const s of buffered) this.accept(s, 'live');
  }

  // ---- polling ------------------------------------------------------------------------------

  private async startPolling(): Promise<void> {
    if (this.polling || !this.running) return;
    this.polling = true;
    this.pollOk = false;
    await this.pollNow();
  }

  private stopPolling(): void {
    this.polling = false;
    this.pollOk = false;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private async pollNow(): Promise<void> {
    if (!this.polling || this.pollInFlight) return;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.pollInFlight = true;
    const wanted = () => this.polling && this.running && !this.welcomed;
    try {
      const token = await this.opts.getToken({ refresh: false });
      if (!wanted()) return;
      await this.ensureBaseline(token);
      await this.catchUpOverRest('poll', wanted);
      if (!wanted()) return;
      this.pollOk = true;
      this.setStatus('polling');
    } catch (err) {
      if (!wanted()) return;
      const e = toError(err);
      if (e.kind === 'auth') {
        this.fail(e);
        return;
      }
      this.pollOk = false;
      this.emit('error', e);
      if (this.currentStatus === 'polling' || this.opts.useWebSocket === false) {
        this.setStatus(this.everConnected || this.opts.useWebSocket === false ? 'reconnecting' : 'connecting');
      }
    } finally {
      this.pollInFlight = false;
      if (this.polling && this.running) {
        this.pollTimer = setTimeout(() => {
          this.pollTimer = null;
          void this.pollNow();
        }, this.pollInterval);
      }
    }
  }

  // ---- status and browser events ------------------------------------------------------------

  private setStatus(status: ConnectionStatus): void {
    this.currentStatus = status;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', { status: this.currentStatus, nextRetryAt: this.retryAt, attempt: this.attemptCount });
  }

  private attachBrowserEvents(): void {
    if (this.opts.browserEvents === false) return;
    const kick = () => {
      if (!this.running) return;
      if (this.polling) void this.pollNow();
      this.reconnectNow();
    };
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('online', kick);
      this.detachBrowser.push(() => window.removeEventListener('online', kick));
    }
    if (typeof document !== 'undefined' && typeof document.addEventListener === 'function') {
      const onVisible = () => {
        if (document.visibilityState === 'visible') kick();
      };
      document.addEventListener('visibilitychange', onVisible);
      this.detachBrowser.push(() => document.removeEventListener('visibilitychange', onVisible));
    }
  }
}

/** The server's symbol rule: 1-32 characters, letters, digits and - _ . / : only. */
export function isValidSymbol(symbol: string): boolean {
  return /^[A-Za-z0-9\-_./:]{1,32}$/.test(symbol);
}

/** At most this many symbols in one filter (the server refuses more). */
export const MAX_SYMBOLS = 100;

/**
 * Trims, upper-cases and de-duplicates a symbol filter. Throws a RangeError for a symbol the
 * server would refuse: in the connect URL such a filter would make every connection fail.
 */
export function normalizeSymbols(symbols: readonly string[] | undefined): string[] {
  if (!symbols) return [];
  const out: string[] = [];
  for (const s of symbols) {
    const t = s.trim().toUpperCase();
    if (!t) continue;
    if (!isValidSymbol(t)) throw new RangeError(`Invalid symbol "${s}": use 1-32 letters, digits or - _ . / :`);
    if (!out.includes(t)) out.push(t);
  }
  if (out.length > MAX_SYMBOLS) throw new RangeError(`At most ${MAX_SYMBOLS} symbols in one filter`);
  return out;
}

function toError(err: unknown): SignalStreamError {
  if (err instanceof SignalStreamError) return err;
  return new SignalStreamError('internal', err instanceof Error ? err.message : String(err), { cause: err });
}

function defaultStorage(): StorageLike | null {
  try {
    if (typeof localStorage !== 'undefined') return localStorage;
  } catch {
    /* access denied (privacy settings) */
  }
  return null;
}
