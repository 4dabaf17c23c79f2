/** React binding: `useSignals({ limit, premiumOnly, useWebSocket, pollInterval })`. */
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { SignalStreamError } from '../lib/errors';
import { normalizeSymbols, SignalSocket, type GetTokenOptions, type SignalMeta, type SignalSocketOptions } from '../lib/signalSocket';
import { isPremium, type ConnectionStatus, type Signal, type Tier } from '../lib/types';

export interface SignalStreamConfig {
  /** API base URL (default: page origin over http(s), else http://localhost:9001). */
  apiBase?: string;
  /** Returns a valid access token; throw a SignalStreamError of kind 'auth' when the session is over. */
  getToken: (opts: GetTokenOptions) => Promise<string>;
  /** Storage key for the last seen seq (e.g. per user). */
  storageKey?: string;
  /** Anything else SignalSocket accepts (reconnect policy, WebSocket, fetch, storage, ...). */
  socketOptions?: Partial<SignalSocketOptions>;
}

const SignalStreamContext = createContext<SignalStreamConfig | null>(null);

/** Supplies the API base and token source to every `useSignals` below it. */
export function SignalStreamProvider(props: { config: SignalStreamConfig; children?: ReactNode }) {
  return createElement(SignalStreamContext.Provider, { value: props.config }, props.children);
}

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
  /** Overrides the provider's configuration. */
  config?: SignalStreamConfig;
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
  /** The underlying client (null before the first effect). */
  socket: SignalSocket | null;
}

/** Inserts signals into a newest-first list, de-duplicated by seq and bounded by limit. */
export function mergeSignals(list: readonly Signal[], incoming: readonly Signal[], limit: number): Signal[] {
  const bySeq = new Map<number, Signal>();
  for (const s of list) bySeq.set(s.seq, s);
  for (const s of incoming) if (!bySeq.has(s.seq)) bySeq.set(s.seq, s);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, Math.max(0, limit));
}

export function useSignals(options: UseSignalsOptions = {}): UseSignalsResult {
  const {
    limit = 10,
    premiumOnly = false,
    useWebSocket = true,
    pollInterval = 30000,
    symbols,
  } = options;
  const ctx = useContext(SignalStreamContext);
  const config = options.config ?? ctx;
  if (!config) throw new Error('useSignals needs a <SignalStreamProvider config={...}> or options.config');

  const [signals, setSignals] = useState<Signal[]>([]);
  const [isLoading, setLoading] = useState(true);
  const [error, setError] = useState<SignalStreamError | null>(null);
  const [status, setStatus] = useState<ConnectionStatus>('connecting');
  const [nextRetryAt, setNextRetryAt] = useState<number | null>(null);
  const [tier, setTier] = useState<Tier | null>(null);
  const [socket, setSocket] = useState<SignalSocket | null>(null);

  // Callbacks live in refs so that a new function identity on each render does not reconnect.
  const getTokenRef = useRef(config.getToken);
  const onSignalRef = useRef(options.onSignal);
  const limitRef = useRef(limit);
  useEffect(() => {
    getTokenRef.current = config.getToken;
    onSignalRef.current = options.onSignal;
    limitRef.current = limit;
  });

  // The symbol filter; an invalid one is reported, not applied (it would break every connect URL).
  const validSymbols = useMemo(() => {
    try {
      return { list: normalizeSymbols(symbols), problem: null };
    } catch (e) {
      return { list: null, problem: e instanceof Error ? e.message : String(e) };
    }
  }, [symbols]);
  const lastValidKey = useRef('');
  if (validSymbols.list) lastValidKey.current = validSymbols.list.join(',');
  const symbolsKey = lastValidKey.current;

  const { apiBase, storageKey, socketOptions } = config;
  useEffect(() => {
    setSignals([]);
    setLoading(true);
    setError(null);
    const s = new SignalSocket({
      ...socketOptions,
      apiBase,
      storageKey: storageKey ?? socketOptions?.storageKey,
      getToken: (o) => getTokenRef.current(o),
      useWebSocket,
      pollInterval,
      premiumOnly,
      snapshotLimit: socketOptions?.snapshotLimit ?? limitRef.current,
      symbols: lastValidKey.current ? lastValidKey.current.split(',') : [],
    });
    const keep = (sig: Signal) => !premiumOnly || isPremium(sig);
    const offs = [
      s.on('snapshot', (list) => {
        setSignals((cur) => mergeSignals(cur, list.filter(keep), limitRef.current));
        setLoading(false);
      }),
      s.on('signal', (sig, meta) => {
        if (!keep(sig)) return;
        setSignals((cur) => mergeSignals(cur, [sig], limitRef.current));
        onSignalRef.current?.(sig, meta);
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
  }, [apiBase, storageKey, socketOptions, useWebSocket, pollInterval, premiumOnly]);

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
