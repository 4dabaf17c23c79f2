import { act, StrictMode, useEffect, useState } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeApi, FakeWebSocket, MemoryStorage, flush, makeSignal } from '../../../test/fakes';
import { SignalStreamProvider, type SignalStreamConfig } from './SignalStreamProvider';
import { mergeSignals, useSignals, type UseSignalsOptions, type UseSignalsResult } from './useSignals';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root | null = null;
let container: HTMLDivElement | null = null;

function renderHook(config: SignalStreamConfig) {
  const result: { current: UseSignalsResult | null } = { current: null };
  function Probe(props: { options: UseSignalsOptions }) {
    result.current = useSignals(props.options);
    return null;
  }
  container = document.createElement('div');
  root = createRoot(container);
  const render = (opts: UseSignalsOptions) =>
    act(() => {
      root?.render(
        <StrictMode>
          <SignalStreamProvider {...config}>
            <Probe options={opts} />
          </SignalStreamProvider>
        </StrictMode>,
      );
    });
  return { result, render };
}

async function settle() {
  await act(async () => {
    await flush();
  });
}

function makeConfig(api: FakeApi): SignalStreamConfig {
  return {
    apiUrl: 'http://api.test',
    getToken: async () => 'tok',
    socketOptions: {
      WebSocket: FakeWebSocket,
      fetch: api.fetch,
      storage: new MemoryStorage(),
      random: () => 0.5,
      browserEvents: false,
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  act(() => root?.unmount());
  root = null;
  container = null;
  vi.useRealTimers();
});

describe('mergeSignals', () => {
  it('keeps newest first, each seq once, at most limit', () => {
    const list = mergeSignals(
      [makeSignal(5), makeSignal(3)],
      [makeSignal(4), makeSignal(5), makeSignal(9), makeSignal(1)],
      3,
    );
    expect(list.map((s) => s.seq)).toEqual([9, 5, 4]);
  });
});

describe('useSignals', () => {
  it('loads, connects and keeps a sorted, bounded, de-duplicated list', async () => {
    const api = new FakeApi();
    api.add(1, 2, 3);
    const config = makeConfig(api);
    const { result, render } = renderHook(config);
    await render({ limit: 3 });
    await settle();
    expect(result.current?.signals.map((s) => s.seq)).toEqual([3, 2, 1]);
    expect(result.current?.isLoading).toBe(false);
    const ws = FakeWebSocket.last;
    await act(async () => {
      ws.accept(3);
      ws.sendSignal(4);
      ws.sendSignal(4);
      ws.sendSignal(5);
    });
    expect(result.current?.status).toBe('connected');
    expect(result.current?.signals.map((s) => s.seq)).toEqual([5, 4, 3]);
    // StrictMode mounted twice: the first socket was stopped, exactly one is live.
    expect(FakeWebSocket.instances.filter((w) => w.closedByClient === null)).toHaveLength(1);
  });

  it('shows premium signals only when premiumOnly is set', async () => {
    const api = new FakeApi();
    const config = makeConfig(api);
    const { result, render } = renderHook(config);
    await render({ premiumOnly: true });
    await settle();
    expect(api.callsTo('/api/v1/signals').at(-1)?.query.get('premium_only')).toBe('true');
    const ws = FakeWebSocket.last;
    await act(async () => {
      ws.accept(0);
      ws.sendSignal(1, { premium: false, min_tier: 'STARTER' });
      ws.sendSignal(2, { premium: true, min_tier: 'PROFESSIONAL' });
      ws.sendSignal(3, { premium: false, min_tier: 'INSTITUTIONAL' });
    });
    expect(result.current?.signals.map((s) => s.seq)).toEqual([3, 2]);
  });

  it('reports status and errors, and sends subscribe when the symbols change', async () => {
    const api = new FakeApi();
    const config = makeConfig(api);
    const { result, render } = renderHook(config);
    await render({ symbols: [] });
    await settle();
    const ws = FakeWebSocket.last;
    await act(async () => ws.accept(0));
    await render({ symbols: ['ETH-USD'] });
    expect(ws.sent).toEqual([{ type: 'subscribe', symbols: ['ETH-USD'] }]);
    await act(async () => {
      ws.sendSignal(1, { symbol: 'ETH-USD' });
    });
    expect(result.current?.signals.map((s) => s.symbol)).toEqual(['ETH-USD']);

    api.down = true;
    await act(async () => ws.serverClose(1006));
    expect(result.current?.status).toBe('reconnecting');
    expect(result.current?.nextRetryAt).toBe(Date.now() + 1500);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1500);
      await flush();
    });
    expect(result.current?.error?.kind).toBe('unreachable');

    api.down = false;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3000);
      await flush();
    });
    await act(async () => FakeWebSocket.last.accept(1));
    expect(result.current?.status).toBe('connected');
    expect(result.current?.error).toBeNull();
    expect(FakeWebSocket.last.param('symbols')).toBe('ETH-USD');
  });

  it('polls when useWebSocket is false', async () => {
    const api = new FakeApi();
    api.add(1);
    const config = makeConfig(api);
    const { result, render } = renderHook(config);
    await render({ useWebSocket: false, pollInterval: 1000 });
    await settle();
    expect(result.current?.status).toBe('polling');
    api.add(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
      await flush();
    });
    expect(result.current?.signals.map((s) => s.seq)).toEqual([2, 1]);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});

describe('useSignals symbol validation', () => {
  it('reports an invalid symbol filter instead of applying it', async () => {
    const api = new FakeApi();
    const { result, render } = renderHook(makeConfig(api));
    await render({ symbols: ['BTC-USD'] });
    await settle();
    const ws = FakeWebSocket.last;
    await act(async () => ws.accept(0));
    await render({ symbols: ['BTC USD!'] });
    expect(result.current?.error?.message).toMatch(/Invalid symbol/);
    expect(ws.sent).toEqual([]);
    expect(FakeWebSocket.instances).toHaveLength(1); // no reconnect
  });
});

describe('useSignals connection lifetime', () => {
  it('keeps one connection while its component re-renders every second with inline options', async () => {
    const api = new FakeApi();
    const { socketOptions } = makeConfig(api);
    let renders = 0;
    function Feed() {
      const { signals, status } = useSignals({ limit: 10, symbols: ['BTC-USD'], onSignal: () => {} });
      renders++;
      return (
        <p>
          {status} {signals.length}
        </p>
      );
    }
    function Ticker() {
      const [tick, setTick] = useState(0);
      useEffect(() => {
        const id = setInterval(() => setTick((t) => t + 1), 1000);
        return () => clearInterval(id);
      }, []);
      // Everything inline: a new getToken, socketOptions object and options object on every render.
      return (
        <SignalStreamProvider
          apiUrl="http://api.test"
          getToken={async () => `tok-${tick}`}
          socketOptions={{ ...socketOptions }}
        >
          <Feed />
        </SignalStreamProvider>
      );
    }
    container = document.createElement('div');
    root = createRoot(container);
    act(() => root?.render(<Ticker />));
    await settle();
    await act(async () => FakeWebSocket.last.accept(0));
    for (let i = 0; i < 10; i++) await act(async () => vi.advanceTimersByTimeAsync(1000));
    expect(renders).toBeGreaterThan(10);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(FakeWebSocket.last.closedByClient).toBeNull();
    expect(FakeWebSocket.last.sent).toEqual([]); // no subscribe either: the symbols did not change
    expect(api.callsTo('/api/auth/ws-ticket')).toHaveLength(1);
    expect(container.textContent).toBe('connected 0');
  });

  it('reconnects when apiUrl changes, and derives the stream URL from it', async () => {
    const api = new FakeApi();
    const { result, render } = renderHook(makeConfig(api));
    await render({ apiUrl: 'https://one.test' });
    await settle();
    expect(FakeWebSocket.last.url.toString()).toMatch(/^wss:\/\/one\.test\/ws\/signals\?/);
    await render({ apiUrl: 'http://two.test:9001' });
    await settle();
    expect(FakeWebSocket.last.url.toString()).toMatch(/^ws:\/\/two\.test:9001\/ws\/signals\?/);
    expect(FakeWebSocket.instances.filter((w) => w.closedByClient === null)).toHaveLength(1);
    expect(result.current?.socket?.apiUrl).toBe('http://two.test:9001');
  });

  it('uses http://localhost:9001 when no apiUrl is given', async () => {
    const api = new FakeApi();
    const { apiUrl: _none, ...config } = makeConfig(api);
    const { result, render } = renderHook(config);
    await render({});
    await settle();
    expect(result.current?.socket?.apiUrl).toBe('http://localhost:9001');
    expect(api.calls[0]?.path).toBe('/api/v1/signals');
  });

  it('reports a missing getToken as an error instead of connecting', async () => {
    const api = new FakeApi();
    const { getToken: _none, ...config } = makeConfig(api);
    const { result, render } = renderHook(config);
    await render({});
    await settle();
    expect(result.current?.error?.kind).toBe('auth');
    expect(result.current?.error?.message).toMatch(/getToken/);
    expect(FakeWebSocket.instances).toHaveLength(0);
  });
});
