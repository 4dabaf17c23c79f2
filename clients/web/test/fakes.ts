/** Test doubles: a scriptable WebSocket, a tiny in-memory SignalStream HTTP API, memory storage. */
import { vi } from 'vitest';
import type { Signal, StorageLike, WebSocketLike } from '../packages/client/src';

export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = [];
  static reset(): void {
    FakeWebSocket.instances = [];
  }
  static get last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error('no socket was created');
    return ws;
  }

  readonly url: URL;
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  closedByClient: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = new URL(url);
    FakeWebSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  // ---- the server's side ----
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }

  /** Opens and sends `welcome`. */
  accept(lastSeq = 0, extra: Record<string, unknown> = {}): void {
    this.open();
    this.receive({
      type: 'welcome',
      connection_id: 'c',
      user_id: 'u1',
      tier: 'PROFESSIONAL',
      last_seq: lastSeq,
      heartbeat_ms: 15000,
      server_time: new Date().toISOString(),
      ...extra,
    });
  }

  sendSignal(seq: number, extra: Partial<Signal> = {}): void {
    this.receive({ type: 'signal', seq, signal: makeSignal(seq, extra) });
  }

  /** The server (or the network) ends the connection. */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The upgrade was refused (e.g. 503): browsers report only close 1006. */
  refuse(): void {
    this.serverClose(1006);
  }

  param(name: string): string | null {
    return this.url.searchParams.get(name);
  }
}

export function makeSignal(seq: number, extra: Partial<Signal> = {}): Signal {
  return {
    id: `id-${seq}`,
    seq,
    external_id: `ext-${seq}`,
    source: 'test',
    symbol: 'BTC-USD',
    side: 'BUY',
    entry_price: 100 + seq,
    premium: false,
    min_tier: 'STARTER',
    received_at: new Date(0).toISOString(),
    ...extra,
  };
}

export interface FakeApiCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
}

/** An in-memory server for the HTTP paths the client uses. */
export class FakeApi {
  signals: Signal[] = [];
  calls: FakeApiCall[] = [];
  /** Set to make every request fail as a network error. */
  down = false;
  ticketStatus = 200;
  listStatus = 200;
  nextTicket = 1;

  add(...seqs: number[]): void {
    for (const s of seqs) this.signals.push(makeSignal(s));
    this.signals.sort((a, b) => a.seq - b.seq);
  }

  get lastSeq(): number {
    return this.signals.reduce((m, s) => Math.max(m, s.seq), 0);
  }

  callsTo(path: string): FakeApiCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  fetch = vi.fn(async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    this.calls.push({ method: init?.method ?? 'GET', path: url.pathname, query: url.searchParams, headers });
    if (this.down) throw new TypeError('Failed to fetch');
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    if (url.pathname === '/api/auth/ws-ticket') {
      if (this.ticketStatus !== 200) return json(this.ticketStatus, { title: 'nope' });
      return json(200, { ticket: `ticket-${this.nextTicket++}`, expires_in: 30 });
    }
    if (url.pathname === '/api/v1/signals') {
      if (this.listStatus !== 200) return json(this.listStatus, { title: 'nope' });
      const limit = Number(url.searchParams.get('limit') ?? '10');
      const after = url.searchParams.get('after_seq');
      if (after !== null) {
        const list = this.signals.filter((s) => s.seq > Number(after)).slice(0, limit);
        return json(200, { signals: list, last_seq: this.lastSeq });
      }
      const list = [...this.signals].reverse().slice(0, limit);
      return json(200, { signals: list, last_seq: this.lastSeq });
    }
    return json(404, { title: 'not found' });
  });
}

export class MemoryStorage implements StorageLike {
  readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

/** Lets pending promises (fetch mocks) and zero-delay timers run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0);
}
