import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeApi, FakeWebSocket, MemoryStorage, flush, makeSignal } from '../../../test/fakes';
import { SignalStreamError } from './errors';
import type { SignalSocketOptions } from './options';
import { SignalSocket, type SignalMeta, type StatusInfo } from './SignalSocket';
import type { Signal } from './types';

const BASE = 'http://api.test:9001';

interface Harness {
  socket: SignalSocket;
  api: FakeApi;
  storage: MemoryStorage;
  delivered: Array<{ seq: number; origin: SignalMeta['origin'] }>;
  statuses: StatusInfo[];
  errors: SignalStreamError[];
  snapshots: Signal[][];
  getToken: ReturnType<typeof vi.fn>;
}

function create(opts: Partial<SignalSocketOptions> = {}, api = new FakeApi(), storage = new MemoryStorage()): Harness {
  const getToken = vi.fn(async ({ refresh }: { refresh: boolean }) => (refresh ? 'token-2' : 'token-1'));
  const socket = new SignalSocket({
    apiUrl: BASE,
    getToken,
    WebSocket: FakeWebSocket,
    fetch: api.fetch,
    storage,
    random: () => 0.5,
    browserEvents: false,
    ...opts,
  });
  const h: Harness = { socket, api, storage, delivered: [], statuses: [], errors: [], snapshots: [], getToken };
  socket.on('signal', (s, meta) => h.delivered.push({ seq: s.seq, origin: meta.origin }));
  socket.on('status', (s) => h.statuses.push(s));
  socket.on('error', (e) => h.errors.push(e));
  socket.on('snapshot', (list) => h.snapshots.push(list));
  return h;
}

/** Starts the client and lets it reach the point where the socket exists. */
async function started(
  opts: Partial<SignalSocketOptions> = {},
  api = new FakeApi(),
  storage = new MemoryStorage(),
): Promise<Harness> {
  const h = create(opts, api, storage);
  h.socket.start();
  await flush();
  return h;
}

const seqs = (h: Harness) => h.delivered.map((d) => d.seq);

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('connecting', () => {
  it('loads a snapshot, gets a single-use ticket and connects with after_seq = the newest seq', async () => {
    const api = new FakeApi();
    api.add(1, 2, 3);
    const h = await started({}, api);
    expect(h.snapshots[0]?.map((s) => s.seq)).toEqual([3, 2, 1]);
    const ticketCall = api.callsTo('/api/auth/ws-ticket')[0];
    expect(ticketCall?.method).toBe('POST');
    expect(ticketCall?.headers.authorization).toBe('Bearer token-1');
    const ws = FakeWebSocket.last;
    expect(`${ws.url.origin}${ws.url.pathname}`).toBe('ws://api.test:9001/ws/signals');
    expect(ws.param('ticket')).toBe('ticket-1');
    expect(ws.param('token')).toBeNull();
    expect(ws.param('after_seq')).toBe('3');
    expect(h.socket.status).toBe('connecting');
    ws.accept(3);
    expect(h.socket.status).toBe('connected');
  });

  it('derives wss:// from an https API base', async () => {
    await started({ apiUrl: 'https://secure.test' });
    expect(FakeWebSocket.last.url.protocol).toBe('wss:');
  });

  it('falls back to ?token= when the server has no ticket endpoint', async () => {
    const api = new FakeApi();
    api.ticketStatus = 404;
    await started({}, api);
    expect(FakeWebSocket.last.param('token')).toBe('token-1');
    expect(FakeWebSocket.last.param('ticket')).toBeNull();
  });

  it('asks for a fresh ticket before every connect', async () => {
    const h = await started();
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1500);
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.instances.map((w) => w.param('ticket'))).toEqual(['ticket-1', 'ticket-2']);
    expect(h.getToken).toHaveBeenCalledTimes(2);
  });

  it('sends the symbol filter in the URL and with subscribe', async () => {
    const h = await started({ symbols: ['btc-usd', 'ETH-USD'] });
    const ws = FakeWebSocket.last;
    expect(ws.param('symbols')).toBe('BTC-USD,ETH-USD');
    ws.accept(0);
    h.socket.subscribe(['SOL-USD']);
    expect(ws.sent).toEqual([{ type: 'subscribe', symbols: ['SOL-USD'] }]);
  });
});

describe('reconnect backoff', () => {
  it('waits per the policy, doubling up to the cap, and resets after a successful connection', async () => {
    const api = new FakeApi();
    const h = await started({ random: () => 0.999999 }, api);
    FakeWebSocket.last.accept(0);
    api.down = true; // every later attempt fails before the socket
    FakeWebSocket.last.serverClose(1006);

    const expected = [2999, 5999, 11999, 23999, 29999, 29999];
    for (const delay of expected) {
      const before = api.callsTo('/api/auth/ws-ticket').length;
      const info = h.statuses[h.statuses.length - 1];
      expect(info?.status).toBe('reconnecting');
      expect(info?.nextRetryAt).toBe(Date.now() + delay);
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(api.callsTo('/api/auth/ws-ticket').length).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      // The attempt was made (it fails: the server is down).
    }
    expect(h.errors.every((e) => e.kind === 'unreachable')).toBe(true);

    api.down = false;
    await vi.advanceTimersByTimeAsync(30000);
    await flush();
    FakeWebSocket.last.accept(0);
    expect(h.socket.status).toBe('connected');
    FakeWebSocket.last.serverClose(1011);
    expect(h.socket.nextRetryAt).toBe(Date.now() + 2999);
  });

  it('keeps every delay within the jitter bounds with a real random source', async () => {
    const api = new FakeApi();
    const h = await started({ random: Math.random }, api);
    FakeWebSocket.last.accept(0);
    api.down = true;
    FakeWebSocket.last.serverClose(1006);
    for (let attempt = 0; attempt < 8; attempt++) {
      const cap = Math.min(30000, 3000 * 2 ** attempt);
      const wait = (h.socket.nextRetryAt ?? 0) - Date.now();
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(cap);
      await vi.advanceTimersByTimeAsync(wait);
      await flush();
    }
  });

  it.each([1000, 1003, 1007, 1009, 4500, 4501, 4503, 4504])('stops for good after close %i', async (code) => {
    const h = await started();
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(code, 'bye');
    expect(h.socket.status).toBe('disconnected');
    expect(h.socket.nextRetryAt).toBeNull();
    const err = h.errors[h.errors.length - 1];
    expect(err?.closeCode).toBe(code);
    expect(err?.kind).toBe(code === 4500 ? 'auth' : 'closed');
    await vi.advanceTimersByTimeAsync(120000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('reconnects after 4001 (token expired), asking getToken again', async () => {
    const h = await started();
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(4001);
    expect(h.socket.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1500);
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(h.getToken).toHaveBeenCalledTimes(2);
  });

  it('reports an expired session when getToken fails with an auth error', async () => {
    const h = create();
    h.getToken.mockRejectedValue(new SignalStreamError('auth', 'Your session expired.'));
    h.socket.start();
    await flush();
    expect(h.socket.status).toBe('disconnected');
    expect(h.errors[0]?.kind).toBe('auth');
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('reports 401 on the ticket request as an auth error and stops', async () => {
    const api = new FakeApi();
    api.ticketStatus = 401;
    const h = await started({}, api);
    expect(h.errors[0]?.kind).toBe('auth');
    expect(h.socket.status).toBe('disconnected');
  });

  it('reconnects at once with jitter after 1001 (server shutting down)', async () => {
    const h = await started({ random: () => 0.3 });
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(1001);
    expect(h.socket.nextRetryAt).toBe(Date.now() + 300);
    await vi.advanceTimersByTimeAsync(300);
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('uses a replacement reconnect policy', async () => {
    const policy = vi.fn(() => 42);
    const h = await started({ reconnectPolicy: policy });
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(1011);
    expect(policy).toHaveBeenCalledWith({ attempt: 0, code: 1011, wasConnected: true });
    expect(h.socket.nextRetryAt).toBe(Date.now() + 42);
    policy.mockReturnValue(null as unknown as number);
    await vi.advanceTimersByTimeAsync(42);
    await flush();
    FakeWebSocket.last.serverClose(1011);
    expect(h.socket.status).toBe('disconnected');
  });

  it('treats a socket that does not open in time as failed', async () => {
    const h = await started({ openTimeout: 5000 });
    const ws = FakeWebSocket.last;
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.closedByClient).not.toBeNull();
    expect(h.socket.status).not.toBe('connected');
    expect(h.socket.nextRetryAt).not.toBeNull();
  });

  it('drops a silent connection after two heartbeat intervals and reconnects', async () => {
    const h = await started();
    const ws = FakeWebSocket.last;
    ws.accept(0, { heartbeat_ms: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.sent).toContainEqual(expect.objectContaining({ type: 'ping' }));
    await vi.advanceTimersByTimeAsync(2000);
    expect(ws.closedByClient).not.toBeNull();
    expect(h.socket.status).toBe('reconnecting');
  });
});

describe('offline queue', () => {
  it('queues messages while disconnected and sends them in order after the next welcome', async () => {
    const h = await started();
    const ws1 = FakeWebSocket.last;
    h.socket.send({ type: 'ping', ts: 1 });
    h.socket.subscribe(['BTC-USD']);
    h.socket.send({ type: 'ping', ts: 2 });
    expect(ws1.sent).toEqual([]);
    ws1.accept(0);
    expect(ws1.sent).toEqual([
      { type: 'ping', ts: 1 },
      { type: 'subscribe', symbols: ['BTC-USD'] },
      { type: 'ping', ts: 2 },
    ]);
    ws1.serverClose(1006);
    h.socket.send({ type: 'ping', ts: 3 });
    h.socket.subscribe([]);
    expect(h.socket.queuedMessages).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1500);
    await flush();
    const ws2 = FakeWebSocket.last;
    expect(ws2).not.toBe(ws1);
    expect(ws2.param('symbols')).toBeNull();
    ws2.accept(0);
    expect(ws2.sent).toEqual([
      { type: 'ping', ts: 3 },
      { type: 'subscribe', symbols: [] },
    ]);
    expect(h.socket.queuedMessages).toHaveLength(0);
  });

  it('is bounded: the oldest messages are dropped and reported', async () => {
    const h = await started({ maxQueueSize: 3 });
    const dropped: unknown[] = [];
    h.socket.on('queue-overflow', (m) => dropped.push(m));
    for (let i = 1; i <= 5; i++) h.socket.send({ type: 'ping', ts: i });
    expect(h.socket.queuedMessages.map((m) => (m as { ts?: number }).ts)).toEqual([3, 4, 5]);
    expect(dropped).toEqual([
      { type: 'ping', ts: 1 },
      { type: 'ping', ts: 2 },
    ]);
    FakeWebSocket.last.accept(0);
    expect(FakeWebSocket.last.sent.map((m) => m.ts)).toEqual([3, 4, 5]);
  });

  it('sends at once while connected', async () => {
    const h = await started();
    FakeWebSocket.last.accept(0);
    h.socket.ping();
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'ping', ts: Date.now() }]);
  });
});

describe('de-duplication and resume', () => {
  it('emits every seq once, live or replayed', async () => {
    const h = await started();
    const ws = FakeWebSocket.last;
    ws.accept(0);
    ws.sendSignal(1);
    ws.sendSignal(2);
    ws.sendSignal(2);
    ws.sendSignal(1);
    ws.sendSignal(3);
    expect(seqs(h)).toEqual([1, 2, 3]);
    expect(h.delivered.every((d) => d.origin === 'live')).toBe(true);
  });

  it('does not re-emit signals that came with the snapshot', async () => {
    const api = new FakeApi();
    api.add(1, 2);
    const storage = new MemoryStorage();
    storage.setItem(`signalstream:last_seq:${BASE}`, '1');
    const h = await started({}, api, storage);
    const ws = FakeWebSocket.last;
    expect(ws.param('after_seq')).toBe('1');
    ws.accept(2);
    ws.sendSignal(2); // replay: already shown by the snapshot
    ws.sendSignal(3);
    expect(seqs(h)).toEqual([3]);
    expect(h.socket.lastSeq).toBe(3);
  });

  it('resumes with after_seq = the last seen seq, and drops replayed duplicates', async () => {
    const h = await started();
    const ws1 = FakeWebSocket.last;
    ws1.accept(0);
    ws1.sendSignal(1);
    ws1.sendSignal(5);
    ws1.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1500);
    await flush();
    const ws2 = FakeWebSocket.last;
    expect(ws2.param('after_seq')).toBe('5');
    ws2.accept(7);
    ws2.sendSignal(5); // a server that replays one too many
    ws2.sendSignal(6);
    ws2.sendSignal(7);
    ws2.receive({ type: 'replay_complete', from_seq: 6, to_seq: 7, count: 2 });
    ws2.sendSignal(8);
    expect(h.delivered).toEqual([
      { seq: 1, origin: 'live' },
      { seq: 5, origin: 'live' },
      { seq: 6, origin: 'replay' },
      { seq: 7, origin: 'replay' },
      { seq: 8, origin: 'live' },
    ]);
  });

  it('handles resync_required through the REST list, paging by 500, with live signals held back until done', async () => {
    const api = new FakeApi();
    const h = await started({ snapshotLimit: 0 }, api);
    const ws1 = FakeWebSocket.last;
    ws1.accept(10);
    expect(h.socket.lastSeq).toBe(10);
    // The server's history cannot fill the gap 11..700; the REST list can.
    for (let s = 11; s <= 700; s++) api.add(s);
    const fetchesBefore = api.callsTo('/api/v1/signals').length;
    ws1.receive({ type: 'resync_required', reason: 'gap too large', oldest_seq: 650 });
    ws1.sendSignal(701); // live, while the REST fetch runs
    await flush();
    const lists = api.callsTo('/api/v1/signals').slice(fetchesBefore);
    expect(lists.map((c) => [c.query.get('after_seq'), c.query.get('limit')])).toEqual([
      ['10', '500'],
      ['510', '500'],
    ]);
    expect(lists[0]?.headers.authorization).toBe('Bearer token-1');
    const got = seqs(h);
    expect(got).toHaveLength(691);
    expect(got[0]).toBe(11);
    expect(got[got.length - 1]).toBe(701);
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(new Set(got).size).toBe(got.length);
    expect(h.delivered.find((d) => d.seq === 700)?.origin).toBe('resync');
    ws1.sendSignal(701);
    expect(seqs(h)).toHaveLength(691);
  });
});

describe('storage', () => {
  it('persists the last seen seq so a new client (a reloaded page) catches up from it', async () => {
    const storage = new MemoryStorage();
    const api = new FakeApi();
    const h1 = await started({}, api, storage);
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.sendSignal(1);
    FakeWebSocket.last.sendSignal(2);
    expect(storage.getItem(`signalstream:last_seq:${BASE}`)).toBe('2');
    h1.socket.stop();
    expect(FakeWebSocket.last.closedByClient?.code).toBe(1000);

    api.add(1, 2, 3, 4); // published while the page was closed
    const h2 = await started({}, api, storage);
    const ws = FakeWebSocket.last;
    expect(ws.param('after_seq')).toBe('2');
    ws.accept(4);
    ws.sendSignal(3);
    ws.sendSignal(4);
    expect(seqs(h2)).toEqual([]); // both came with the snapshot already...
    expect(h2.snapshots[0]?.map((s) => s.seq)).toEqual([4, 3, 2, 1]);
    expect(h2.socket.lastSeq).toBe(4);
  });

  it('catches up with every missed signal when the snapshot is smaller than the gap', async () => {
    const storage = new MemoryStorage();
    storage.setItem('k', '2');
    const api = new FakeApi();
    api.add(1, 2, 3, 4, 5, 6);
    const h = await started({ storageKey: 'k', snapshotLimit: 2 }, api, storage);
    const ws = FakeWebSocket.last;
    expect(ws.param('after_seq')).toBe('2');
    ws.accept(6);
    for (const s of [3, 4, 5, 6]) ws.sendSignal(s);
    expect(seqs(h)).toEqual([3, 4]);
    expect(h.snapshots[0]?.map((s) => s.seq)).toEqual([6, 5]);
    expect(storage.getItem('k')).toBe('6');
  });

  it('starts over when the server has a shorter history than the stored seq (new database)', async () => {
    const storage = new MemoryStorage();
    storage.setItem('k', '900');
    const api = new FakeApi();
    api.add(1, 2);
    const h = await started({ storageKey: 'k' }, api, storage);
    let resets = 0;
    h.socket.on('reset', () => resets++);
    expect(h.socket.lastSeq).toBe(2);
    expect(FakeWebSocket.last.param('after_seq')).toBe('2');
    FakeWebSocket.last.accept(2);
    FakeWebSocket.last.sendSignal(3);
    expect(seqs(h)).toEqual([3]);
    expect(resets).toBe(0); // it happened before the listener; the seq was corrected
  });
});

describe('polling fallback', () => {
  it('polls while the socket is refused, switches to the socket when it opens, and back', async () => {
    const api = new FakeApi();
    api.add(1, 2);
    const h = await started({ pollInterval: 15000, reconnectPolicy: () => 20000 }, api);
    expect(h.socket.lastSeq).toBe(2);
    const polls = () => api.callsTo('/api/v1/signals').filter((c) => c.query.has('after_seq'));

    // The upgrade is refused (HTTP 503): the browser reports close 1006 before open.
    FakeWebSocket.last.refuse();
    await flush();
    expect(h.socket.status).toBe('polling');
    expect(polls().map((c) => c.query.get('after_seq'))).toEqual(['2']);
    expect(h.socket.nextRetryAt).toBe(Date.now() + 20000); // the socket keeps being tried

    api.add(3);
    await vi.advanceTimersByTimeAsync(15000); // the next poll
    await flush();
    expect(seqs(h)).toEqual([3]);
    expect(h.delivered[0]?.origin).toBe('poll');
    expect(polls().map((c) => c.query.get('after_seq'))).toEqual(['2', '2']);

    // The socket opens: it resumes after what polling delivered, and polling stops.
    api.add(4);
    await vi.advanceTimersByTimeAsync(5000);
    await flush();
    const ws = FakeWebSocket.last;
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(ws.param('after_seq')).toBe('3');
    ws.accept(4);
    ws.sendSignal(3); // a duplicate of the polled one
    ws.sendSignal(4);
    expect(h.socket.status).toBe('connected');
    const pollCount = polls().length;
    await vi.advanceTimersByTimeAsync(60000);
    expect(polls().length).toBe(pollCount); // smart polling: none while connected
    expect(seqs(h)).toEqual([3, 4]);

    // Lost, and the socket is refused again: back to polling, from seq 4.
    ws.serverClose(1011);
    expect(h.socket.status).toBe('reconnecting'); // a drop after a connection is not a refusal
    await vi.advanceTimersByTimeAsync(20000);
    await flush();
    FakeWebSocket.last.refuse();
    await flush();
    expect(h.socket.status).toBe('polling');
    expect(polls()[polls().length - 1]?.query.get('after_seq')).toBe('4');
    expect(seqs(h)).toEqual([3, 4]);
  });

  it('ignores a poll answer that arrives after the socket connected', async () => {
    const api = new FakeApi();
    const h = await started({ pollInterval: 1000 }, api);
    FakeWebSocket.last.refuse();
    await flush();
    expect(h.socket.status).toBe('polling');
    api.add(1);
    await vi.advanceTimersByTimeAsync(1500); // socket retry and a poll both due
    await flush();
    const ws = FakeWebSocket.last;
    ws.accept(1);
    ws.sendSignal(1);
    expect(seqs(h)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(seqs(h)).toEqual([1]);
  });

  it('does not poll a server that cannot be reached at all', async () => {
    const api = new FakeApi();
    const h = await started({}, api);
    FakeWebSocket.last.accept(0);
    api.down = true;
    FakeWebSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(100000);
    expect(h.socket.status).toBe('reconnecting');
    expect(h.errors[h.errors.length - 1]?.kind).toBe('unreachable');
  });

  it('polls only when useWebSocket is false', async () => {
    const api = new FakeApi();
    api.add(1);
    const h = await started({ useWebSocket: false, pollInterval: 5000 }, api);
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(h.socket.status).toBe('polling');
    api.add(2, 3);
    await vi.advanceTimersByTimeAsync(5000);
    await flush();
    expect(seqs(h)).toEqual([2, 3]);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('token refresh and browser events', () => {
  it('answers token_expiring with a refresh frame carrying a new token', async () => {
    const h = await started();
    const ws = FakeWebSocket.last;
    ws.accept(0);
    ws.receive({ type: 'token_expiring', expires_at: new Date(Date.now() + 30000).toISOString() });
    await flush();
    expect(h.getToken).toHaveBeenLastCalledWith({ refresh: true });
    expect(ws.sent).toEqual([{ type: 'refresh', token: 'token-2' }]);
  });

  it('reconnects at once when the browser comes back online', async () => {
    const h = await started({ browserEvents: true, random: () => 0.999 });
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(1006);
    expect(h.socket.nextRetryAt).toBeGreaterThan(Date.now() + 2000);
    window.dispatchEvent(new Event('online'));
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
    h.socket.stop();
  });

  it('reconnects at once when the tab becomes visible', async () => {
    const h = await started({ browserEvents: true, random: () => 0.999 });
    FakeWebSocket.last.accept(0);
    FakeWebSocket.last.serverClose(1006);
    document.dispatchEvent(new Event('visibilitychange'));
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
    h.socket.stop();
    // After stop, no listener is left behind.
    window.dispatchEvent(new Event('online'));
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('keeps the tier from welcome and tier_changed', async () => {
    const h = await started();
    FakeWebSocket.last.accept(0, { tier: 'STARTER' });
    expect(h.socket.tier).toBe('STARTER');
    FakeWebSocket.last.receive({ type: 'tier_changed', tier: 'INSTITUTIONAL' });
    expect(h.socket.tier).toBe('INSTITUTIONAL');
  });
});

describe('makeSignal', () => {
  it('builds protocol-shaped signals', () => {
    expect(makeSignal(1).seq).toBe(1);
  });
});

describe('symbol filter validation', () => {
  it('refuses symbols the server would refuse, before they reach a connect URL', async () => {
    const h = await started();
    expect(() => h.socket.subscribe(['BTC USD'])).toThrow(RangeError);
    expect(() => h.socket.subscribe(['x'.repeat(33)])).toThrow(RangeError);
    expect(() => h.socket.subscribe(Array.from({ length: 101 }, (_, i) => `S${i}`))).toThrow(RangeError);
    h.socket.subscribe([' eth-usd ', 'ETH-USD', 'EUR/USD', 'es:cme']);
    expect(h.socket.symbols).toEqual(['ETH-USD', 'EUR/USD', 'ES:CME']);
  });
});
