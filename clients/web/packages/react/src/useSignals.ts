/** `useSignals({ limit, premiumOnly, useWebSocket, pollInterval })` → `{ signals, isLoading, error, ... }`. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  isPremium,
  normalizeSymbols,
  resolveApiUrl,
  SignalSocket,
  SignalStreamError,
  type ConnectionStatus,
  type GetToken,
  type Signal,
  type SignalMeta,
  type Tier,
} from '@signalstream/client';
import { useSignalStreamConfig } from './SignalStreamProvider';

export interface UseSignalsOptions {
  /** How many signals the list keeps (newest first). Default 10. */
  limit?: number;
  /** Only premium signals (min_tier PROFESSIONAL or higher). Default false. */
  premiumOnly?: boolean;
  /** Use the WebSocket stream; false: REST polling only. Default true. */
  useWebSocket?: boolean;
  /** Polling period in ms when polling (fallback or useWebSocket false). Default 30000. */
  pollInterval?: number;
  /** Symbol filter sent to the server with `subscribe`; empty means all. */
  symbols?: string[];
  /** Called for every new signal (live, replayed, polled, resynced), after de-duplication. */
  onSignal?: (signal: Signal, meta: SignalMeta) => void;
  /** Overrides the provider's API URL (default `http://localhost:9001`). */
  apiUrl?: string;
  /** Overrides the provider's token source. */
  getToken?: GetToken;
}

export interface UseSignalsResult {
  /** Newest first, at most `limit`, each seq once. */
  signals: Signal[];
  /** True until the first data (snapshot, connection or poll) or error. */
  isLoading: boolean;
  /** The latest problem, cleared when the stream works again. */
  error: SignalStreamError | null;
  status: ConnectionStatus;
  /** When the next socket attempt is due (ms since epoch), for a countdown. */
  nextRetryAt: number | null;
  /** The user's tier as the server last reported it. */
  tier: Tier | null;
  /** Tries the socket now. */
  reconnect: () => void;
  /** The underlying client (null before the first effect, and during server-side rendering). */
  socket: SignalSocket | null;
}

/** Inserts signals into a newest-first list, de-duplicated by seq and bounded by limit. */
export function mergeSignals(list: readonly Signal[], incoming: readonly Signal[], limit: number): Signal[] {
  const bySeq = new Map<number, Signal>();
  for (const s of list) bySeq.set(s.seq, s);
  for (const s of incoming) if (!bySeq.has(s.seq)) bySeq.set(s.seq, s);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, Math.max(0, limit));
}

/**
 * Live signals from SignalStream. One connection per mounted hook, kept across re-renders: only a
 * change of `apiUrl`, the provider's `storageKey`, `useWebSocket`, `pollInterval` or `premiumOnly`
 * opens a new one. Options written inline (`useSignals({ limit: 10 })`) and a new `getToken` or
 * `onSignal` function on every render are fine; `symbols` changes are sent with `subscribe`.
 */
export function useSignals(options: UseSignalsOptions = {}): UseSignalsResult {
  const { limit = 10, premiumOnly = false, useWebSocket = true, pollInterval = 30000, symbols } = options;
  const provided = useSignalStreamConfig();
  const apiUrl = resolveApiUrl(options.apiUrl ?? provided.apiUrl);
  const storageKey = provided.storageKey;
  const getToken = options.getToken ?? provided.getToken;

  const [signals, setSignals] = useState<Signal[]>([]);
  const [isLoading, setLoading] = useState(true);
  const [error, setError] = useState<SignalStreamError | null>(null);
  const [status, setStatus] = useState<ConnectionStatus>('connecting');
  const [nextRetryAt, setNextRetryAt] = useState<number | null>(null);
  const [tier, setTier] = useState<Tier | null>(null);
  const [socket, setSocket] = useState<SignalSocket | null>(null);

  // What may change on every render without reconnecting lives in a ref, read when it is needed.
  const latest = useRef({ getToken, onSignal: options.onSignal, limit, socketOptions: provided.socketOptions });
  useEffect(() => {
    latest.current = { getToken, onSignal: options.onSignal, limit, socketOptions: provided.socketOptions };
  });

  // The symbol filter; an invalid one is reported, not applied (it would break every connect URL).
  const symbolsText = symbols?.join('\n');
  const validSymbols = useMemo(() => {
    try {
      return { list: normalizeSymbols(symbolsText ? symbolsText.split('\n') : []), problem: null };
    } catch (e) {
      return { list: null, problem: e instanceof Error ? e.message : String(e) };
    }
  }, [symbolsText]);
  const lastValidKey = useRef('');
  if (validSymbols.list) lastValidKey.current = validSymbols.list.join(',');
  const symbolsKey = lastValidKey.current;

  useEffect(() => {
    setSignals([]);
    setLoading(true);
    setError(null);
    const { socketOptions } = latest.current;
    const s = new SignalSocket({
      ...socketOptions,
      apiUrl,
      storageKey: storageKey ?? socketOptions?.storageKey,
      getToken: (o) => {
        const current = latest.current.getToken;
        if (!current) {
          return Promise.reject(
            new SignalStreamError('auth', 'useSignals needs getToken (on <SignalStreamProvider> or in its options)'),
          );
        }
        return current(o);
      },
      useWebSocket,
      pollInterval,
      premiumOnly,
      snapshotLimit: socketOptions?.snapshotLimit ?? latest.current.limit,
      symbols: lastValidKey.current ? lastValidKey.current.split(',') : [],
    });
    const keep = (sig: Signal) => !premiumOnly || isPremium(sig);
    const offs = [
      s.on('snapshot', (list) => {
        setSignals((cur) => mergeSignals(cur, list.filter(keep), latest.current.limit));
        setLoading(false);
      }),
      s.on('signal', (sig, meta) => {
        if (!keep(sig)) return;
        setSignals((cur) => mergeSignals(cur, [sig], latest.current.limit));
        latest.current.onSignal?.(sig, meta);
      }),
      s.on('status', (info) => {
        setStatus(info.status);
        setNextRetryAt(info.nextRetryAt);
        if (info.status === 'connected' || info.status === 'polling') {
          setError(null);
          setLoading(false);
        }
      }),
      s.on('error', (e) => {
        setError(e);
        setLoading(false);
      }),
      s.on('welcome', (w) => setTier(w.tier)),
      s.on('tier', (t) => setTier(t)),
      s.on('reset', () => setSignals([])),
    ];
    setSocket(s);
    s.start();
    return () => {
      for (const off of offs) off();
      s.stop();
    };
  }, [apiUrl, storageKey, useWebSocket, pollInterval, premiumOnly]);

  const symbolProblem = validSymbols.problem;
  useEffect(() => {
    if (symbolProblem) setError(new SignalStreamError('internal', symbolProblem));
  }, [symbolProblem]);

  // The symbol filter changes without reconnecting.
  const lastSentSymbols = useRef<string | null>(null);
  useEffect(() => {
    if (!socket) return;
    if (lastSentSymbols.current === null) {
      lastSentSymbols.current = symbolsKey; // the socket was created with these
      return;
    }
    if (lastSentSymbols.current === symbolsKey) return;
    lastSentSymbols.current = symbolsKey;
    socket.subscribe(symbolsKey ? symbolsKey.split(',') : []);
  }, [socket, symbolsKey]);

  // A smaller limit trims the list at once.
  useEffect(() => {
    setSignals((cur) => (cur.length > limit ? cur.slice(0, limit) : cur));
  }, [limit]);

  const reconnect = useCallback(() => socket?.reconnectNow(), [socket]);

  // Client-side symbol filter too, so signals polled over REST (which has no symbol filter) match.
  const visible = useMemo(() => {
    if (!symbolsKey) return signals;
    const set = new Set(symbolsKey.split(','));
    return signals.filter((s) => set.has(s.symbol.toUpperCase()));
  }, [signals, symbolsKey]);

  return { signals: visible, isLoading, error, status, nextRetryAt, tier, reconnect, socket };
}
