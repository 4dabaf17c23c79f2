/**
 * The connection loop: one WebSocket at a time, opened when asked, given up after an open
 * timeout or two silent heartbeat intervals, and tried again when the reconnect policy says so.
 * It knows nothing of signals: frames go to `frame`, the URL comes from `prepare`.
 */
import { isTerminalCloseCode, type ReconnectPolicy } from './backoff';
import { describeCloseCode, SignalStreamError, toSignalStreamError } from './errors';
import type { WebSocketCtor, WebSocketLike } from './options';

const OPEN = 1;

export interface ConnectionHooks {
  /**
   * Everything needed before a connection (token, ticket): the URL to open. A throw fails the
   * attempt. `current()` turns false when the attempt was abandoned (stop): do no more work then.
   */
  prepare(current: () => boolean): Promise<string>;
  /** A frame from the current connection. */
  frame(data: unknown): void;
  /** An attempt started (status: nothing scheduled any more). */
  attempting(): void;
  /** The connection was lost or could not open; the next attempt is scheduled (`nextRetryAt`). */
  retrying(loss: { wasConnected: boolean; serverAnswered: boolean }): void;
  /** A problem that does not end the loop. */
  error(error: SignalStreamError): void;
  /** The loop stopped for good (terminal close code, auth failure, the policy gave up). */
  fatal(error: SignalStreamError): void;
  /** The current socket is gone (closed, dropped or stopped). */
  detached(): void;
}

export interface ConnectionLoopOptions {
  WebSocket: WebSocketCtor | undefined;
  policy: ReconnectPolicy;
  /** A socket not connected (see `markConnected`) after this many ms counts as failed. */
  openTimeout: number;
  /** Ping every `heartbeat_ms` and drop a connection silent for two intervals. */
  heartbeat: boolean;
  now: () => number;
  hooks: ConnectionHooks;
}

/** Close codes after which the credentials are no good any more. */
function isAuthCloseCode(code: number): boolean {
  return code === 4500;
}

export class ConnectionLoop {
  private readonly opts: ConnectionLoopOptions;
  private readonly hooks: ConnectionHooks;
  private running = false;
  private ws: WebSocketLike | null = null;
  private welcomed = false;
  private connecting = false;
  /** Bumped by every attempt and by stop(): an await that returns to an older value is stale. */
  private generation = 0;
  private attemptCount = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryAt: number | null = null;
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;

  constructor(options: ConnectionLoopOptions) {
    this.opts = options;
    this.hooks = options.hooks;
  }

  /** Connected: the server's `welcome` arrived on the current socket. */
  get connected(): boolean {
    return this.welcomed;
  }
  /** An attempt is under way (preparing or opening). */
  get busy(): boolean {
    return this.connecting;
  }
  /** When the next attempt is due (ms since epoch), or null when none is scheduled. */
  get nextRetryAt(): number | null {
    return this.retryAt;
  }
  /** Consecutive failed attempts. */
  get attempt(): number {
    return this.attemptCount;
  }
  /** The current socket, to tell later whether it is still the same connection. */
  get socket(): WebSocketLike | null {
    return this.ws;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  /** Closes the socket (1000) and cancels every timer. `start()` may be called again. */
  stop(): void {
    this.running = false;
    this.generation++;
    this.clearRetry();
    this.closeSocket(1000, 'client stopped');
  }

  /** Tries at once instead of waiting for the scheduled attempt; no-op when connected or connecting. */
  connectNow(): void {
    if (!this.running || this.welcomed || this.connecting) return;
    this.clearRetry();
    void this.connect();
  }

  /** The server welcomed the current socket: the attempt succeeded, so the backoff starts over. */
  markConnected(heartbeatMs: number | undefined): void {
    if (!this.ws) return;
    this.clearOpenTimer();
    this.connecting = false;
    this.welcomed = true;
    this.attemptCount = 0;
    this.clearRetry();
    this.startHeartbeat(heartbeatMs);
  }

  /** Sends on the connected socket; false when there is none. */
  send(text: string): boolean {
    if (!this.welcomed || !this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(text);
    return true;
  }

  /** Gives up the current socket (e.g. a failed resync) and handles it as a lost connection. */
  drop(reason: string): void {
    if (this.ws) this.dropSocket(this.ws, 1006, reason);
  }

  private async connect(): Promise<void> {
    if (!this.running || this.connecting || this.ws) return;
    const Ctor = this.opts.WebSocket;
    if (!Ctor) {
      this.hooks.fatal(new SignalStreamError('internal', 'WebSocket is not available in this environment'));
      return;
    }
    const gen = ++this.generation;
    this.connecting = true;
    this.retryAt = null;
    this.hooks.attempting();
    let url: string;
    try {
      url = await this.hooks.prepare(() => gen === this.generation);
    } catch (err) {
      if (gen !== this.generation) return;
      this.connecting = false;
      const e = toSignalStreamError(err);
      if (e.kind === 'auth') {
        this.hooks.fatal(e);
        return;
      }
      this.hooks.error(e);
      // The server answered HTTP (it is up) but refused: the REST list may still work.
      this.afterFailure(undefined, false, e.kind !== 'unreachable');
      return;
    }
    if (gen !== this.generation) return;

    let ws: WebSocketLike;
    try {
      ws = new Ctor(url);
    } catch (err) {
      this.connecting = false;
      this.hooks.error(new SignalStreamError('internal', 'Could not create the WebSocket', { cause: err }));
      this.afterFailure(undefined, false, true);
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    this.openTimer = setTimeout(() => {
      if (this.ws === ws && !this.welcomed) this.dropSocket(ws, 1006, 'open timeout');
    }, this.opts.openTimeout);
    ws.onopen = () => {
      /* the connection counts as connected at `welcome` */
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = this.opts.now();
      this.hooks.frame(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.onClosed(ev.code, ev.reason, this.welcomed);
    };
  }

  private onClosed(code: number, reason: string, wasConnected: boolean): void {
    this.detach();
    if (!this.running) return;
    if (isTerminalCloseCode(code)) {
      const kind = isAuthCloseCode(code) ? 'auth' : 'closed';
      this.hooks.fatal(new SignalStreamError(kind, describeCloseCode(code, reason), { closeCode: code }));
      return;
    }
    // 4001 (token expired) is not terminal: the next attempt's prepare() asks for a valid token,
    // which either refreshes it or reports that the session is over.
    this.afterFailure(code, wasConnected, !wasConnected);
  }

  /** Asks the policy when to try again, and schedules it. */
  private afterFailure(code: number | undefined, wasConnected: boolean, serverAnswered: boolean): void {
    if (!this.running) return;
    const delay = this.opts.policy({ attempt: this.attemptCount, code, wasConnected });
    this.attemptCount++;
    if (delay === null) {
      this.hooks.fatal(new SignalStreamError('closed', describeCloseCode(code ?? 1006), { closeCode: code }));
      return;
    }
    this.clearRetry();
    const ms = Math.max(0, delay);
    this.retryAt = this.opts.now() + ms;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      void this.connect();
    }, ms);
    this.hooks.retrying({ wasConnected, serverAnswered });
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

  /** Forgets the socket without waiting for its close event, then handles the loss. */
  private dropSocket(ws: WebSocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return;
    const wasConnected = this.welcomed;
    this.closeSocket(4000, reason);
    this.onClosed(code, reason, wasConnected);
  }

  private closeSocket(code: number, reason: string): void {
    const ws = this.ws;
    this.detach();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  private detach(): void {
    this.clearOpenTimer();
    this.stopHeartbeat();
    const had = this.ws !== null;
    this.ws = null;
    this.welcomed = false;
    this.connecting = false;
    if (had) this.hooks.detached();
  }

  private startHeartbeat(heartbeatMs: number | undefined): void {
    this.stopHeartbeat();
    if (!this.opts.heartbeat) return;
    const interval = heartbeatMs && heartbeatMs > 0 ? heartbeatMs : 30000;
    this.lastFrameAt = this.opts.now();
    const ws = this.ws;
    this.heartbeatTimer = setInterval(() => {
      if (!ws || this.ws !== ws) return;
      if (this.opts.now() - this.lastFrameAt > 2 * interval) {
        this.dropSocket(ws, 1006, 'heartbeat timeout');
        return;
      }
      if (ws.readyState === OPEN) ws.send(JSON.stringify({ type: 'ping', ts: this.opts.now() }));
    }, interval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
