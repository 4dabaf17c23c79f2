import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket, flush } from '../../../test/fakes';
import type { ReconnectPolicy } from './backoff';
import { ConnectionLoop, type ConnectionLoopOptions } from './connection';
import { SignalStreamError } from './errors';

const URL_ = 'ws://api.test/ws/signals?ticket=t';

function create(overrides: Partial<ConnectionLoopOptions> = {}, policy: ReconnectPolicy = () => 1000) {
  const hooks = {
    prepare: vi.fn(async (_current: () => boolean) => URL_),
    frame: vi.fn(),
    attempting: vi.fn(),
    retrying: vi.fn(),
    error: vi.fn(),
    fatal: vi.fn(),
    detached: vi.fn(),
  };
  const loop = new ConnectionLoop({
    WebSocket: FakeWebSocket,
    policy: vi.fn(policy),
    openTimeout: 10000,
    heartbeat: true,
    now: () => Date.now(),
    hooks,
    ...overrides,
  });
  return { loop, hooks };
}

async function connected(overrides: Partial<ConnectionLoopOptions> = {}, policy?: ReconnectPolicy) {
  const h = create(overrides, policy);
  h.loop.start();
  await flush();
  FakeWebSocket.last.open();
  h.loop.markConnected(15000);
  return h;
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ConnectionLoop', () => {
  it('opens the URL from prepare and forwards the frames of the current socket only', async () => {
    const { loop, hooks } = create();
    loop.start();
    expect(hooks.attempting).toHaveBeenCalledOnce();
    expect(loop.busy).toBe(true);
    await flush();
    const ws = FakeWebSocket.last;
    expect(ws.url.toString()).toBe(URL_);
    ws.open();
    ws.receive({ type: 'welcome' });
    expect(hooks.frame).toHaveBeenCalledWith(JSON.stringify({ type: 'welcome' }));
    expect(loop.connected).toBe(false); // connected only once told so
    loop.markConnected(15000);
    expect(loop.connected).toBe(true);
    expect(loop.busy).toBe(false);
    loop.drop('test');
    hooks.frame.mockClear();
    ws.receive({ type: 'late' }); // handlers were removed from the dropped socket
    expect(hooks.frame).not.toHaveBeenCalled();
  });

  it('asks the policy after a lost connection and tries again when it says', async () => {
    const policy = vi.fn<ReconnectPolicy>(() => 2500);
    const { loop, hooks } = await connected({ policy });
    FakeWebSocket.last.serverClose(1011);
    expect(policy).toHaveBeenCalledWith({ attempt: 0, code: 1011, wasConnected: true });
    expect(hooks.detached).toHaveBeenCalledOnce();
    expect(hooks.retrying).toHaveBeenCalledWith({ wasConnected: true, serverAnswered: false });
    expect(loop.nextRetryAt).toBe(Date.now() + 2500);
    expect(loop.attempt).toBe(1);
    await vi.advanceTimersByTimeAsync(2499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
    // A socket refused before it opened: the server answered (HTTP), the policy sees the attempt count.
    FakeWebSocket.last.refuse();
    expect(policy).toHaveBeenLastCalledWith({ attempt: 1, code: 1006, wasConnected: false });
    expect(hooks.retrying).toHaveBeenLastCalledWith({ wasConnected: false, serverAnswered: true });
  });

  it('starts the backoff over once connected again', async () => {
    const policy = vi.fn<ReconnectPolicy>(() => 10);
    const { loop } = await connected({ policy });
    FakeWebSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(10);
    await flush();
    FakeWebSocket.last.refuse();
    expect(loop.attempt).toBe(2);
    await vi.advanceTimersByTimeAsync(10);
    await flush();
    FakeWebSocket.last.open();
    loop.markConnected(15000);
    expect(loop.attempt).toBe(0);
    expect(loop.nextRetryAt).toBeNull();
  });

  it.each([
    [1000, 'closed'],
    [1009, 'closed'],
    [4500, 'auth'],
    [4503, 'closed'],
  ])('stops for good after close %i (%s)', async (code, kind) => {
    const { loop, hooks } = await connected();
    FakeWebSocket.last.serverClose(code);
    expect(hooks.fatal).toHaveBeenCalledOnce();
    const error = hooks.fatal.mock.calls[0]?.[0] as SignalStreamError;
    expect(error.kind).toBe(kind);
    expect(error.closeCode).toBe(code);
    expect(hooks.retrying).not.toHaveBeenCalled();
    expect(loop.nextRetryAt).toBeNull();
  });

  it('stops when the policy gives up', async () => {
    const { hooks } = await connected({}, () => null);
    FakeWebSocket.last.serverClose(1011);
    expect((hooks.fatal.mock.calls[0]?.[0] as SignalStreamError).kind).toBe('closed');
  });

  it('reports a failed prepare: an auth error is fatal, others are retried', async () => {
    const unreachable = create();
    unreachable.hooks.prepare.mockRejectedValueOnce(new SignalStreamError('unreachable', 'down'));
    unreachable.loop.start();
    await flush();
    expect(unreachable.hooks.error).toHaveBeenCalledOnce();
    expect(unreachable.hooks.retrying).toHaveBeenCalledWith({ wasConnected: false, serverAnswered: false });

    const refused = create();
    refused.hooks.prepare.mockRejectedValueOnce(new SignalStreamError('http', 'ticket 503', { status: 503 }));
    refused.loop.start();
    await flush();
    expect(refused.hooks.retrying).toHaveBeenCalledWith({ wasConnected: false, serverAnswered: true });

    const auth = create();
    auth.hooks.prepare.mockRejectedValueOnce(new SignalStreamError('auth', 'expired'));
    auth.loop.start();
    await flush();
    expect(auth.hooks.fatal).toHaveBeenCalledOnce();
    expect(auth.hooks.retrying).not.toHaveBeenCalled();
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('drops a socket that is not connected within the open timeout', async () => {
    const { loop, hooks } = create({ openTimeout: 5000 });
    loop.start();
    await flush();
    const ws = FakeWebSocket.last;
    ws.open();
    await vi.advanceTimersByTimeAsync(5000);
    expect(ws.closedByClient?.code).toBe(4000);
    expect(hooks.retrying).toHaveBeenCalledWith({ wasConnected: false, serverAnswered: true });
  });

  it('pings every heartbeat interval and drops a connection silent for two', async () => {
    const { loop, hooks } = create();
    loop.start();
    await flush();
    const ws = FakeWebSocket.last;
    ws.open();
    loop.markConnected(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.sent).toEqual([{ type: 'ping', ts: Date.now() }]);
    ws.receive({ type: 'pong' }); // a frame keeps it alive
    await vi.advanceTimersByTimeAsync(2000);
    expect(ws.closedByClient).toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.closedByClient).not.toBeNull();
    expect(hooks.retrying).toHaveBeenCalledWith({ wasConnected: true, serverAnswered: false });
  });

  it('sends only on a connected socket', async () => {
    const { loop } = create();
    expect(loop.send('x')).toBe(false);
    loop.start();
    await flush();
    FakeWebSocket.last.open();
    expect(loop.send('{"type":"ping","ts":1}')).toBe(false);
    loop.markConnected(15000);
    expect(loop.send('{"type":"ping","ts":1}')).toBe(true);
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'ping', ts: 1 }]);
  });

  it('stop closes with 1000, cancels the retry and abandons a prepare under way', async () => {
    const { loop, hooks } = await connected();
    loop.stop();
    expect(FakeWebSocket.last.closedByClient?.code).toBe(1000);
    await vi.advanceTimersByTimeAsync(60000);
    expect(FakeWebSocket.instances).toHaveLength(1);

    let release: (url: string) => void = () => {};
    hooks.prepare.mockImplementationOnce(() => new Promise<string>((r) => (release = r)));
    loop.start();
    const current = hooks.prepare.mock.calls.at(-1)?.[0] as () => boolean;
    expect(current()).toBe(true);
    loop.stop();
    expect(current()).toBe(false);
    release(URL_);
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('connectNow skips the wait, and does nothing while connected', async () => {
    const { loop } = await connected({}, () => 60000);
    loop.connectNow();
    expect(FakeWebSocket.instances).toHaveLength(1);
    FakeWebSocket.last.serverClose(1006);
    loop.connectNow();
    await flush();
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(loop.nextRetryAt).toBeNull();
  });

  it('is fatal without a WebSocket implementation', () => {
    const { loop, hooks } = create({ WebSocket: undefined });
    loop.start();
    expect((hooks.fatal.mock.calls[0]?.[0] as SignalStreamError).message).toMatch(/WebSocket is not available/);
  });
});
