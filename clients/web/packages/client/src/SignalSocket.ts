/**
 * SignalSocket: a framework-free client for SignalStream's `/ws/signals` stream.
 *
 * The public face over separate pieces: the connection loop (`connection.ts`), message dispatch
 * (`dispatch.ts`), resume and de-duplication (`resume.ts`, with `catchUp.ts` and `snapshot.ts`
 * over REST), the transport fallback to REST polling (`transport.ts`) and the offline queue
 * (`outbox.ts`). It decides what a message means for the user: which signals to emit, when to
 * resync, and the status.
 */
import { getWsTicket, listSignals, type ApiOptions } from './api';
import { exponentialBackoff } from './backoff';
import { onBrowserWake } from './browserEvents';
import { catchUpOverRest } from './catchUp';
import { resolveApiUrl, toWsUrl } from './config';
import { ConnectionLoop } from './connection';
import { dispatchFrame } from './dispatch';
import { Emitter } from './emitter';
import { toSignalStreamError, type SignalStreamError } from './errors';
import type { SignalSocketOptions, StorageLike, WebSocketCtor } from './options';
import { Outbox } from './outbox';
import { ResumeState } from './resume';
import { Snapshot } from './snapshot';
import { normalizeSymbols } from './symbols';
import { TransportFallback } from './transport';
import type {
  ClientMessage,
  ConnectionStatus,
  ResyncRequiredMessage,
  ServerMessage,
  Signal,
  SignalOrigin,
  Tier,
  WelcomeMessage,
} from './types';

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

export class SignalSocket extends Emitter<SignalSocketEvents> {
  readonly apiUrl: string;
  private readonly opts: SignalSocketOptions;
  private readonly api: ApiOptions;
  private readonly now: () => number;
  private readonly loop: ConnectionLoop;
  private readonly transport: TransportFallback;
  private readonly resume: ResumeState;
  private readonly outbox: Outbox;
  private readonly snapshot: Snapshot;

  private running = false;
  private everConnected = false;
  private ticketsUnsupported = false;
  private currentStatus: ConnectionStatus = 'disconnected';
  private symbolFilter: string[];
  private serverClockOffset = 0;
  private currentTier: Tier | null = null;
  /** Signals at or below the welcome's last_seq are replayed history, not live. */
  private welcomeLastSeq = 0;
  /** While resyncing over REST, live signals wait here so they come after the gap. */
  private resyncBuffer: Signal[] | null = null;
  private detachBrowser: (() => void) | null = null;

  constructor(options: SignalSocketOptions) {
    super();
    this.opts = options;
    this.apiUrl = resolveApiUrl(options.apiUrl);
    this.api = { apiUrl: this.apiUrl, fetch: options.fetch };
    this.now = options.now ?? (() => Date.now());
    this.symbolFilter = normalizeSymbols(options.symbols);
    this.resume = new ResumeState({
      storage: options.storage !== undefined ? options.storage : defaultStorage(),
      storageKey: options.storageKey ?? `signalstream:last_seq:${this.apiUrl}`,
      onReset: () => this.emit('reset'),
    });
    this.snapshot = new Snapshot({
      api: this.api,
      resume: this.resume,
      limit: options.snapshotLimit ?? 10,
      premiumOnly: options.premiumOnly,
      loaded: (newestFirst) => this.emit('snapshot', newestFirst),
    });
    this.outbox = new Outbox(options.maxQueueSize ?? 100, (dropped) => this.emit('queue-overflow', dropped));
    this.loop = new ConnectionLoop({
      WebSocket: options.WebSocket ?? defaultWebSocket(),
      policy:
        options.reconnectPolicy ??
        exponentialBackoff({
          reconnectInterval: options.reconnectInterval,
          maxReconnectInterval: options.maxReconnectInterval,
          random: options.random,
        }),
      openTimeout: options.openTimeout ?? 10000,
      heartbeat: options.heartbeat !== false,
      now: this.now,
      hooks: {
        prepare: (current) => this.prepareConnection(current),
        frame: (data) => this.onFrame(data),
        attempting: () => this.emitStatus(),
        retrying: (loss) => {
          this.transport.socketFailed(loss);
          this.setStatus(this.transport.working ? 'polling' : 'reconnecting');
        },
        error: (e) => this.emit('error', e),
        fatal: (e) => this.fail(e),
        detached: () => {
          this.resyncBuffer = null;
        },
      },
    });
    this.transport = new TransportFallback({
      useWebSocket: options.useWebSocket !== false,
      pollingFallback: options.pollingFallback !== false,
      interval: options.pollInterval ?? 30000,
      hooks: {
        poll: (wanted) => this.poll(wanted),
        wanted: () => this.running && !this.loop.connected,
        succeeded: () => this.setStatus('polling'),
        failed: (e) => this.onPollFailed(e),
      },
    });
  }

  // ---- public API -------------------------------------------------------------------------

  get status(): ConnectionStatus {
    return this.currentStatus;
  }
  /** When the next socket attempt is due (ms since epoch), for a countdown. */
  get nextRetryAt(): number | null {
    return this.loop.nextRetryAt;
  }
  /** The last seq seen (and persisted), or null before anything is known. */
  get lastSeq(): number | null {
    return this.resume.lastSeq;
  }
  /** Messages waiting for a connection. */
  get queuedMessages(): readonly ClientMessage[] {
    return this.outbox.messages;
  }
  get symbols(): readonly string[] {
    return this.symbolFilter;
  }
  /** Server time minus local time, estimated at `welcome` (ms). */
  get clockOffset(): number {
    return this.serverClockOffset;
  }
  get tier(): Tier | null {
    return this.currentTier;
  }
  get connected(): boolean {
    return this.loop.connected;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.browserEvents !== false) {
      this.detachBrowser = onBrowserWake(() => {
        if (this.transport.active) void this.transport.pollNow();
        this.reconnectNow();
      });
    }
    this.setStatus('connecting');
    if (this.transport.socketEnabled) this.loop.start();
    else void this.transport.start();
  }

  /** Closes the socket, stops polling and timers. `start()` may be called again. */
  stop(): void {
    if (this.running) this.shutDown();
  }

  /** Sends a message now when connected; otherwise queues it (bounded, oldest dropped) for the next connection. */
  send(message: ClientMessage): void {
    if (!this.loop.send(JSON.stringify(message))) this.outbox.push(message);
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
    if (!this.running) return;
    if (this.transport.socketEnabled) this.loop.connectNow();
    else void this.transport.pollNow();
  }

  /** Forgets the persisted seq (e.g. on log-out). */
  clearStoredSeq(): void {
    this.resume.clear();
  }

  // ---- connecting ---------------------------------------------------------------------------

  private async prepareConnection(current: () => boolean): Promise<string> {
    const token = await this.opts.getToken({ refresh: false });
    if (!current()) return '';
    await this.snapshot.ensure(token);
    if (!current()) return '';
    const url = new URL(toWsUrl(this.apiUrl));
    const after = this.resume.lastSeq;
    if (after !== null) url.searchParams.set('after_seq', String(after));
    const epoch = this.resume.epoch;
    if (after !== null && epoch !== null) url.searchParams.set('epoch', epoch);
    if (this.symbolFilter.length > 0) url.searchParams.set('symbols', this.symbolFilter.join(','));
    const ticket = await this.fetchTicket(token);
    if (ticket !== null) url.searchParams.set('ticket', ticket);
    else url.searchParams.set('token', token);
    return url.toString();
  }

  /** A single-use ticket, or null when tickets are off or the server has none (404/405: an older server). */
  private async fetchTicket(token: string): Promise<string | null> {
    if (this.opts.useTicket === false || this.ticketsUnsupported) return null;
    try {
      return (await getWsTicket(this.api, token)).ticket;
    } catch (err) {
      const e = toSignalStreamError(err);
      if (e.kind === 'http' && (e.status === 404 || e.status === 405)) {
        this.ticketsUnsupported = true;
        return null;
      }
      throw e;
    }
  }

  private async reloadSnapshot(): Promise<void> {
    this.snapshot.invalidate();
    try {
      await this.snapshot.ensure(await this.opts.getToken({ refresh: false }));
    } catch (err) {
      this.emit('error', toSignalStreamError(err));
    }
  }

  // ---- messages -----------------------------------------------------------------------------

  private onFrame(data: unknown): void {
    dispatchFrame(data, {
      message: (msg) => this.emit('message', msg),
      welcome: (msg) => this.onWelcome(msg),
      signal: (signal) => {
        if (this.resyncBuffer) this.resyncBuffer.push(signal);
        else this.deliver(signal, signal.seq <= this.welcomeLastSeq ? 'replay' : 'live');
      },
      resyncRequired: (msg) => this.onResyncRequired(msg),
      tierChanged: (tier) => {
        this.currentTier = tier;
        this.emit('tier', tier);
      },
      tokenExpiring: () => void this.refreshToken(),
    });
  }

  private onWelcome(msg: WelcomeMessage): void {
    if (!this.loop.socket) return;
    this.loop.markConnected(msg.heartbeat_ms);
    this.everConnected = true;
    this.welcomeLastSeq = typeof msg.last_seq === 'number' ? msg.last_seq : 0;
    this.currentTier = msg.tier ?? this.currentTier;
    const serverTime = Date.parse(msg.server_time);
    if (Number.isFinite(serverTime)) this.serverClockOffset = serverTime - this.now();
    const reset = this.resume.observeHead(this.welcomeLastSeq, msg.epoch) === 'reset';
    this.transport.socketConnected();
    // Queued messages go first, so anything sent from a status listener comes after them.
    for (const m of this.outbox.drain()) this.loop.send(JSON.stringify(m));
    this.setStatus('connected');
    this.emit('welcome', msg);
    if (reset) void this.reloadSnapshot();
  }

  /** Emits a signal unless its seq was already seen. */
  private deliver(signal: Signal, origin: SignalOrigin): void {
    if (this.resume.accept(signal.seq)) this.emit('signal', signal, { origin, receivedAtLocal: this.now() });
  }

  /**
   * Another history (a reset or restored database): forget what was seen and reload the snapshot;
   * then, or when history just cannot fill the gap, read it from the REST list.
   */
  private onResyncRequired(msg: ResyncRequiredMessage): void {
    if (typeof msg.last_seq === 'number' && this.resume.observeHead(msg.last_seq, msg.epoch) === 'reset')
      void this.reloadSnapshot();
    void this.resync();
  }

  /** The server's history cannot fill the gap: read it from the REST list, holding live signals back. */
  private async resync(): Promise<void> {
    const ws = this.loop.socket;
    if (!ws || this.resyncBuffer) return;
    this.resyncBuffer = [];
    const same = () => this.loop.socket === ws;
    try {
      await this.catchUp('resync', same);
    } catch (err) {
      if (!same()) return;
      const e = toSignalStreamError(err);
      this.emit('error', e);
      if (e.kind === 'auth') this.fail(e);
      else this.loop.drop('resync failed'); // start over: the next connection resumes from what we have
      return;
    }
    if (!same()) return;
    const buffered = this.resyncBuffer ?? [];
    this.resyncBuffer = null;
    for (const s of buffered) this.deliver(s, 'live');
  }

  private async catchUp(origin: SignalOrigin, stillWanted: () => boolean): Promise<void> {
    const token = await this.opts.getToken({ refresh: false });
    await catchUpOverRest({
      resume: this.resume,
      fetchPage: (afterSeq, limit) => listSignals(this.api, token, { afterSeq, limit }),
      deliver: (s) => this.emit('signal', s, { origin, receivedAtLocal: this.now() }),
      stillWanted,
    });
  }

  private async refreshToken(): Promise<void> {
    const ws = this.loop.socket;
    try {
      const token = await this.opts.getToken({ refresh: true });
      if (this.loop.socket === ws) this.loop.send(JSON.stringify({ type: 'refresh', token }));
    } catch (err) {
      // Not fatal yet: the server closes with 4001 when the token runs out, and the next
      // connect attempt decides whether the session is over.
      this.emit('error', toSignalStreamError(err));
    }
  }

  // ---- polling ------------------------------------------------------------------------------

  private async poll(wanted: () => boolean): Promise<void> {
    const token = await this.opts.getToken({ refresh: false });
    if (!wanted()) return;
    await this.snapshot.ensure(token);
    await this.catchUp('poll', wanted);
  }

  private onPollFailed(e: SignalStreamError): void {
    if (e.kind === 'auth') {
      this.fail(e);
      return;
    }
    this.emit('error', e);
    const pollOnly = !this.transport.socketEnabled;
    if (this.currentStatus === 'polling' || pollOnly) {
      this.setStatus(this.everConnected || pollOnly ? 'reconnecting' : 'connecting');
    }
  }

  // ---- lifecycle and status -----------------------------------------------------------------

  private fail(error: SignalStreamError): void {
    this.emit('error', error);
    this.shutDown();
  }

  /** Ends the session: socket, polling, timers and browser listeners. */
  private shutDown(): void {
    this.running = false;
    this.loop.stop();
    this.transport.stop();
    this.detachBrowser?.();
    this.detachBrowser = null;
    this.setStatus('disconnected');
  }

  private setStatus(status: ConnectionStatus): void {
    this.currentStatus = status;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', { status: this.currentStatus, nextRetryAt: this.loop.nextRetryAt, attempt: this.loop.attempt });
  }
}

function defaultWebSocket(): WebSocketCtor | undefined {
  return typeof WebSocket !== 'undefined' ? (WebSocket as unknown as WebSocketCtor) : undefined;
}

function defaultStorage(): StorageLike | null {
  try {
    if (typeof localStorage !== 'undefined') return localStorage;
  } catch {
    /* access denied (privacy settings) */
  }
  return null;
}
