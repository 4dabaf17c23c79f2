/**
 * Transport fallback: the WebSocket when it works, the REST list polled every `interval` when it
 * does not. Polling starts when the socket was refused by a server that answers HTTP (or at once
 * with `useWebSocket: false`) and stops as soon as the socket is connected.
 */
import { toSignalStreamError, type SignalStreamError } from './errors';

export interface PollHooks {
  /** One poll: fetch and deliver everything new. `wanted()` turns false when the answer no longer matters. */
  poll(wanted: () => boolean): Promise<void>;
  /** Whether polling is still wanted (running and the socket not connected). */
  wanted(): boolean;
  succeeded(): void;
  failed(error: SignalStreamError): void;
}

export interface TransportFallbackOptions {
  /** False: never open a socket, only poll. */
  useWebSocket: boolean;
  /** False: never poll while the socket is refused. */
  pollingFallback: boolean;
  interval: number;
  hooks: PollHooks;
}

export class TransportFallback {
  private readonly opts: TransportFallbackOptions;
  private polling = false;
  private pollOk = false;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;

  constructor(options: TransportFallbackOptions) {
    this.opts = options;
  }

  get socketEnabled(): boolean {
    return this.opts.useWebSocket;
  }
  /** Polling is on. */
  get active(): boolean {
    return this.polling;
  }
  /** Polling is on and its last poll worked. */
  get working(): boolean {
    return this.polling && this.pollOk;
  }

  /** The socket failed: poll when it was refused (never connected) by a server that answers HTTP. */
  socketFailed(loss: { wasConnected: boolean; serverAnswered: boolean }): void {
    if (!loss.wasConnected && loss.serverAnswered && this.opts.pollingFallback) void this.start();
  }

  /** The socket is connected: polling has nothing more to add. */
  socketConnected(): void {
    this.stop();
  }

  async start(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    this.pollOk = false;
    await this.pollNow();
  }

  stop(): void {
    this.polling = false;
    this.pollOk = false;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Polls now (and restarts the period); no-op when not polling or a poll is under way. */
  async pollNow(): Promise<void> {
    if (!this.polling || this.inFlight) return;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.inFlight = true;
    const { hooks } = this.opts;
    const wanted = () => this.polling && hooks.wanted();
    try {
      await hooks.poll(wanted);
      if (!wanted()) return;
      this.pollOk = true;
      hooks.succeeded();
    } catch (err) {
      if (!wanted()) return;
      this.pollOk = false;
      hooks.failed(toSignalStreamError(err));
    } finally {
      this.inFlight = false;
      if (this.polling && hooks.wanted()) {
        this.pollTimer = setTimeout(() => {
          this.pollTimer = null;
          void this.pollNow();
        }, this.opts.interval);
      }
    }
  }
}
