/**
 * Type test: the usage the packages' READMEs document, against the built type declarations
 * (`@signalstream/*` resolve to packages/*\/dist). `npm run typecheck` compiles it; nothing runs it.
 * Every `@ts-expect-error` is a misuse that must keep failing to compile.
 */
import {
  exponentialBackoff,
  listSignals,
  login,
  SignalSocket,
  SignalStreamError,
  type Signal,
  type SignalMeta,
  type StatusInfo,
} from '@signalstream/client';
import { SignalStreamProvider, useSignals, type UseSignalsResult } from '@signalstream/react';

declare const process: { env: Record<string, string | undefined> };
declare function render(list: Signal[]): void;

// ---- @signalstream/react README: the five-minute setup ----------------------------------------

async function getToken(): Promise<string> {
  const res = await fetch('/api/signalstream-token');
  if (res.status === 401) throw new SignalStreamError('auth', 'Signed out');
  return ((await res.json()) as { token: string }).token;
}

export function Providers({ children }: { children: React.ReactNode }) {
  return (
    <SignalStreamProvider apiUrl={process.env.NEXT_PUBLIC_API_URL} getToken={getToken}>
      {children}
    </SignalStreamProvider>
  );
}

export function LiveSignals() {
  const { signals, isLoading, error } = useSignals({
    limit: 10,
    premiumOnly: false,
    useWebSocket: true,
    pollInterval: 30000,
  });
  if (isLoading) return <p>Loading…</p>;
  if (error) return <p>{error.message}</p>;
  return (
    <ul>
      {signals.map((s) => (
        <li key={s.seq}>
          {s.symbol} {s.side} {s.entry_price}
        </li>
      ))}
    </ul>
  );
}

export function Everything() {
  const result: UseSignalsResult = useSignals({
    apiUrl: 'https://signals.example.com',
    symbols: ['BTC-USD'],
    onSignal: (signal: Signal, meta: SignalMeta) => console.warn(signal.seq, meta.origin),
  });
  const { status, nextRetryAt, tier, reconnect, socket } = result;
  const kind: 'auth' | 'unreachable' | 'http' | 'closed' | 'internal' | undefined = result.error?.kind;
  return (
    <button onClick={reconnect} title={`${status} ${nextRetryAt} ${tier} ${socket?.lastSeq} ${kind}`}>
      Retry
    </button>
  );
}

export function Misuse() {
  // @ts-expect-error limit is a number
  useSignals({ limit: '10' });
  // @ts-expect-error there is no such option
  useSignals({ refreshRate: 5 });
  // @ts-expect-error getToken returns a promise of the token
  return <SignalStreamProvider getToken={() => 'token'} />;
}

// ---- @signalstream/client README --------------------------------------------------------------

export async function clientUsage() {
  const token = (await login({ apiUrl: 'http://localhost:9001' }, 'alice', 'secret')).access_token;
  const socket = new SignalSocket({
    apiUrl: 'https://signals.example.com',
    getToken: async ({ refresh }) => (refresh ? token : token),
    symbols: ['BTC-USD'],
    reconnectPolicy: ({ attempt, code }) => (code === 4504 ? null : Math.min(60000, 1000 * 2 ** attempt)),
  });
  socket.on('snapshot', (newestFirst) => render(newestFirst));
  socket.on('signal', (signal, meta) => console.warn(signal.symbol, meta.origin));
  socket.on('status', ({ status, nextRetryAt }: StatusInfo) => console.warn(status, nextRetryAt));
  socket.on('error', (e) => console.warn(e.kind, e.message));
  socket.start();
  socket.subscribe(['ETH-USD']);
  socket.send({ type: 'ping', ts: Date.now() });
  socket.stop();
  // @ts-expect-error no such event
  socket.on('signals', () => {});

  new SignalSocket({
    getToken: async () => token,
    reconnectPolicy: exponentialBackoff({ maxReconnectInterval: 60000 }),
  });
  const page = await listSignals({ apiUrl: 'http://localhost:9001' }, token, { limit: 50, premiumOnly: true });
  render(page.signals);
}
