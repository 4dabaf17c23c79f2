import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flush } from '../../../test/fakes';
import { SignalStreamError } from './errors';
import { TransportFallback, type TransportFallbackOptions } from './transport';

function create(overrides: Partial<Omit<TransportFallbackOptions, 'hooks'>> = {}) {
  const state = { wanted: true };
  const hooks = {
    poll: vi.fn(async (_wanted: () => boolean) => {}),
    wanted: vi.fn(() => state.wanted),
    succeeded: vi.fn(),
    failed: vi.fn(),
  };
  const transport = new TransportFallback({
    useWebSocket: true,
    pollingFallback: true,
    interval: 1000,
    hooks,
    ...overrides,
  });
  return { transport, hooks, state };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TransportFallback', () => {
  it('polls when the socket was refused by a server that answers, every interval', async () => {
    const { transport, hooks } = create();
    transport.socketFailed({ wasConnected: false, serverAnswered: true });
    await flush();
    expect(transport.active).toBe(true);
    expect(transport.working).toBe(true);
    expect(hooks.poll).toHaveBeenCalledOnce();
    expect(hooks.succeeded).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(3000);
    expect(hooks.poll).toHaveBeenCalledTimes(4);
  });

  it.each([
    ['a connection lost after it was up', { wasConnected: true, serverAnswered: false }],
    ['a server that cannot be reached', { wasConnected: false, serverAnswered: false }],
  ])('does not poll after %s', async (_name, loss) => {
    const { transport, hooks } = create();
    transport.socketFailed(loss);
    await vi.advanceTimersByTimeAsync(5000);
    expect(transport.active).toBe(false);
    expect(hooks.poll).not.toHaveBeenCalled();
  });

  it('does not poll with pollingFallback off', async () => {
    const { transport, hooks } = create({ pollingFallback: false });
    transport.socketFailed({ wasConnected: false, serverAnswered: true });
    await vi.advanceTimersByTimeAsync(5000);
    expect(hooks.poll).not.toHaveBeenCalled();
  });

  it('stops polling when the socket connects, and no timer is left', async () => {
    const { transport, hooks, state } = create();
    await transport.start();
    state.wanted = false;
    transport.socketConnected();
    expect(transport.active).toBe(false);
    await vi.advanceTimersByTimeAsync(10000);
    expect(hooks.poll).toHaveBeenCalledOnce();
  });

  it('reports a failed poll and keeps polling', async () => {
    const { transport, hooks } = create();
    hooks.poll.mockRejectedValueOnce(new SignalStreamError('http', 'nope', { status: 500 }));
    await transport.start();
    expect(transport.working).toBe(false);
    expect((hooks.failed.mock.calls[0]?.[0] as SignalStreamError).status).toBe(500);
    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.working).toBe(true);
  });

  it('ignores the outcome of a poll that is no longer wanted', async () => {
    const { transport, hooks, state } = create();
    hooks.poll.mockImplementationOnce(async () => {
      state.wanted = false;
      throw new Error('late');
    });
    await transport.start();
    expect(hooks.failed).not.toHaveBeenCalled();
    expect(hooks.succeeded).not.toHaveBeenCalled();
  });

  it('runs one poll at a time; pollNow restarts the period', async () => {
    const { transport, hooks } = create();
    let finish: () => void = () => {};
    hooks.poll.mockImplementationOnce(() => new Promise<void>((r) => (finish = r)));
    const first = transport.start();
    void transport.pollNow();
    expect(hooks.poll).toHaveBeenCalledOnce();
    finish();
    await first;
    await vi.advanceTimersByTimeAsync(600);
    await transport.pollNow();
    expect(hooks.poll).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(hooks.poll).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(hooks.poll).toHaveBeenCalledTimes(3);
  });

  it('tells whether the socket is to be used at all', () => {
    expect(create({ useWebSocket: false }).transport.socketEnabled).toBe(false);
    expect(create().transport.socketEnabled).toBe(true);
  });
});
