import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import {
  isPremium,
  normalizeSymbols,
  type ConnectionStatus,
  type Signal,
  type SignalMeta,
  type SignalStreamError,
} from '@signalstream/client';
import { SignalStreamProvider, useSignals } from '@signalstream/react';
import { makeTokenSource, SESSION_EXPIRED, type Session } from './session';

const POLL_INTERVAL = 30000;
const TABLE_LIMIT = 50;
const LATENCY_WINDOW = 20;

interface Arrival {
  origin: SignalMeta['origin'];
  /** arrival − received_at (server stored → browser), ms */
  deliveryMs: number | null;
  /** arrival − generated_at (publisher → browser), ms */
  endToEndMs: number | null;
}

export interface DashboardProps {
  apiUrl: string;
  session: Session;
  getSession: () => Session | null;
  updateSession: (s: Session) => void;
  onLogout: (message: string | null) => void;
}

export function Dashboard(props: DashboardProps) {
  const { apiUrl, getSession, updateSession, session } = props;
  const getToken = useMemo(
    () => makeTokenSource(apiUrl, getSession, updateSession),
    [apiUrl, getSession, updateSession],
  );
  return (
    <SignalStreamProvider
      apiUrl={apiUrl}
      getToken={getToken}
      storageKey={`signalstream:last_seq:${apiUrl}:${session.userId}`}
    >
      <LiveView {...props} />
    </SignalStreamProvider>
  );
}

function LiveView({ apiUrl, session, onLogout }: DashboardProps) {
  const [symbols, setSymbols] = useState<string[]>([]);
  const [filterText, setFilterText] = useState('');
  const arrivals = useRef(new Map<number, Arrival>());
  const clockOffset = useRef(0);

  const onSignal = useCallback((sig: Signal, meta: SignalMeta) => {
    const at = meta.receivedAtLocal + clockOffset.current;
    const since = (iso: string | null | undefined) => {
      if (!iso) return null;
      const t = Date.parse(iso);
      return Number.isFinite(t) ? Math.max(0, Math.round(at - t)) : null;
    };
    arrivals.current.set(sig.seq, {
      origin: meta.origin,
      deliveryMs: since(sig.received_at),
      endToEndMs: since(sig.generated_at),
    });
    if (arrivals.current.size > 500) {
      const oldest = arrivals.current.keys().next().value;
      if (oldest !== undefined) arrivals.current.delete(oldest);
    }
  }, []);

  const { signals, isLoading, error, status, nextRetryAt, tier, reconnect, socket } = useSignals({
    limit: TABLE_LIMIT,
    premiumOnly: false,
    useWebSocket: true,
    pollInterval: POLL_INTERVAL,
    symbols,
    onSignal,
  });

  // Clock skew correction only when it is clearly there (same-machine clocks agree to a few ms).
  useEffect(() => {
    if (!socket) return;
    return socket.on('welcome', () => {
      clockOffset.current = Math.abs(socket.clockOffset) > 1000 ? socket.clockOffset : 0;
    });
  }, [socket]);

  // Errors that end the session take the user back to the login page, with the reason.
  useEffect(() => {
    if (!error) return;
    if (error.kind === 'auth') {
      onLogout(
        error.closeCode === 4500
          ? 'Your session is no longer valid (it was revoked or signed out). Log in again.'
          : SESSION_EXPIRED,
      );
    } else if (error.kind === 'closed' && error.closeCode === 4503) {
      onLogout('This account is disabled or its access was revoked. Contact your administrator.');
    }
  }, [error, onLogout]);

  const effectiveTier = tier ?? session.tier;
  const now = useNow(status === 'reconnecting' || status === 'polling' ? 1000 : 5000);

  const [filterError, setFilterError] = useState<string | null>(null);
  function applyFilter(e: FormEvent) {
    e.preventDefault();
    try {
      setSymbols(normalizeSymbols(filterText.split(/[\s,]+/)));
      setFilterError(null);
    } catch (err) {
      setFilterError(err instanceof Error ? err.message : String(err));
    }
  }

  const latency = summarize(
    signals
      .map((s) => arrivals.current.get(s.seq))
      .filter((a): a is Arrival => !!a && a.origin !== 'snapshot')
      .slice(0, LATENCY_WINDOW),
  );

  return (
    <div className="page">
      <header className="topbar">
        <h1>
          <span className="logo">◆</span> SignalStream
        </h1>
        <div className="user">
          <span data-testid="username">{session.username}</span>
          <TierBadge tier={effectiveTier} testId="user-tier" />
          <button
            type="button"
            className="link"
            onClick={() => {
              socket?.clearStoredSeq();
              onLogout(null);
            }}
          >
            Log out
          </button>
        </div>
      </header>

      <section className="statusbar">
        <StatusPill status={status} nextRetryAt={nextRetryAt} now={now} onRetry={reconnect} />
        <div
          className="latency"
          data-testid="latency"
          title="Time from the server storing a signal (received_at) and from the publisher generating it (generated_at) to its arrival in this page"
        >
          {latency.count === 0 ? (
            <span className="muted">Latency: waiting for live signals</span>
          ) : (
            <>
              <span>
                Delivery latency (last {latency.count}):{' '}
                <b data-testid="latency-delivery">{fmtMs(latency.deliveryP50)}</b> median, {fmtMs(latency.deliveryMax)}{' '}
                max
              </span>
              {latency.e2eP50 !== null && (
                <span>
                  End to end: <b data-testid="latency-e2e">{fmtMs(latency.e2eP50)}</b> median
                </span>
              )}
            </>
          )}
        </div>
      </section>

      {effectiveTier === 'STARTER' && (
        <p className="note" data-testid="tier-note">
          Your plan is <b>STARTER</b>: you see standard signals only. Premium signals (★) need the <b>PROFESSIONAL</b>{' '}
          tier or higher.
        </p>
      )}
      <ErrorBanner error={error} status={status} apiUrl={apiUrl} now={now} nextRetryAt={nextRetryAt} />

      <form className="filter" onSubmit={applyFilter} aria-label="Symbol filter">
        <label>
          Symbols
          <input
            name="symbols"
            placeholder="all symbols, or e.g. BTC-USD, ETH-USD"
            value={filterText}
            onChange={(e) => setFilterText(e.target.value)}
          />
        </label>
        <button type="submit">Apply</button>
        {symbols.length > 0 && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setFilterText('');
              setSymbols([]);
            }}
          >
            Show all
          </button>
        )}
        {filterError && (
          <span className="error" role="alert" data-testid="filter-error">
            {filterError}
          </span>
        )}
        <span className="muted" data-testid="filter-state">
          {symbols.length ? `Showing ${symbols.join(', ')}` : 'Showing all symbols'}
        </span>
      </form>

      <SignalTable signals={signals} arrivals={arrivals.current} isLoading={isLoading} now={now} />
    </div>
  );
}

function StatusPill(props: { status: ConnectionStatus; nextRetryAt: number | null; now: number; onRetry: () => void }) {
  const { status, nextRetryAt, now } = props;
  const secs = nextRetryAt !== null ? Math.max(0, Math.ceil((nextRetryAt - now) / 1000)) : null;
  let text: string;
  switch (status) {
    case 'connected':
      text = 'Live';
      break;
    case 'connecting':
      text = 'Connecting…';
      break;
    case 'reconnecting':
      text = secs !== null ? `Reconnecting in ${secs} s` : 'Reconnecting…';
      break;
    case 'polling':
      text =
        `Polling every ${POLL_INTERVAL / 1000} s` +
        (secs !== null ? ` · live connection retry in ${secs} s` : ' · retrying live connection…');
      break;
    case 'disconnected':
      text = 'Disconnected';
      break;
  }
  return (
    <div
      className={`status status-${status}`}
      data-testid="status"
      data-status={status}
      role="status"
      aria-live="polite"
    >
      <span className="dot" aria-hidden="true" />
      <span>{text}</span>
      {(status === 'reconnecting' || status === 'polling') && secs !== null && (
        <button type="button" className="link" onClick={props.onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}

function ErrorBanner(props: {
  error: SignalStreamError | null;
  status: ConnectionStatus;
  apiUrl: string;
  now: number;
  nextRetryAt: number | null;
}) {
  const { error, status } = props;
  if (!error || status === 'connected') return null;
  let text: string;
  switch (error.kind) {
    case 'unreachable':
      text = `Cannot reach the server at ${props.apiUrl}. Check your network connection; the dashboard keeps retrying and catches up without losing signals.`;
      break;
    case 'closed':
      text = error.message + (error.closeCode === 4504 ? '' : ' Reload the page to try again.');
      break;
    case 'auth':
      return null; // handled by going back to the login page
    default:
      if (status === 'polling') return null; // the socket is refused but polling works: the status says so
      text = error.message;
  }
  return (
    <p className="error banner" role="alert" data-testid="error-banner">
      {text}
    </p>
  );
}

function SignalTable(props: { signals: Signal[]; arrivals: Map<number, Arrival>; isLoading: boolean; now: number }) {
  if (props.isLoading && props.signals.length === 0)
    return (
      <p className="muted" data-testid="loading">
        Loading signals…
      </p>
    );
  if (props.signals.length === 0)
    return (
      <p className="muted" data-testid="empty">
        No signals yet. New ones appear here as they are published.
      </p>
    );
  return (
    <table className="signals" data-testid="signals">
      <thead>
        <tr>
          <th>#</th>
          <th>Time</th>
          <th>Symbol</th>
          <th>Side</th>
          <th className="num">Entry</th>
          <th className="num">Stop</th>
          <th className="num">Target</th>
          <th className="num">Conf.</th>
          <th>TF</th>
          <th>Tier</th>
          <th className="num">Latency</th>
          <th>Source</th>
        </tr>
      </thead>
      <tbody>
        {props.signals.map((s) => {
          const a = props.arrivals.get(s.seq);
          const premium = isPremium(s);
          return (
            <tr
              key={s.seq}
              data-seq={s.seq}
              data-symbol={s.symbol}
              data-premium={premium ? 'true' : 'false'}
              className={premium ? 'premium' : undefined}
            >
              <td className="muted">{s.seq}</td>
              <td title={s.received_at}>{fmtTime(s.generated_at ?? s.received_at)}</td>
              <td className="symbol">
                {s.symbol}
                {premium && (
                  <span className="star" title="Premium signal" aria-label="premium">
                    {' '}
                    ★
                  </span>
                )}
              </td>
              <td className={s.side === 'BUY' ? 'buy' : 'sell'}>{s.side}</td>
              <td className="num">{fmtNum(s.entry_price)}</td>
              <td className="num">{fmtNum(s.stop_loss)}</td>
              <td className="num">{fmtNum(s.take_profit)}</td>
              <td className="num">{s.confidence != null ? `${Math.round(s.confidence * 100)}%` : '—'}</td>
              <td>{s.timeframe ?? '—'}</td>
              <td>
                <TierBadge tier={String(s.min_tier ?? (premium ? 'PROFESSIONAL' : 'STARTER'))} />
              </td>
              <td
                className="num"
                title={a?.endToEndMs != null ? `generated → shown: ${fmtMs(a.endToEndMs)}` : undefined}
              >
                {a && a.deliveryMs !== null ? (
                  <span data-testid="row-latency">{fmtMs(a.deliveryMs)}</span>
                ) : (
                  <span className="muted">{fmtAge(props.now, s.received_at)}</span>
                )}
                {a && a.origin !== 'live' && <span className="origin"> ({a.origin})</span>}
              </td>
              <td className="muted">{s.source}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function TierBadge(props: { tier: string; testId?: string }) {
  const t = props.tier.toUpperCase();
  return (
    <span className={`badge tier-${t.toLowerCase()}`} data-testid={props.testId}>
      {t}
    </span>
  );
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function summarize(list: Arrival[]) {
  const delivery = list.map((a) => a.deliveryMs).filter((x): x is number => x !== null);
  const e2e = list.map((a) => a.endToEndMs).filter((x): x is number => x !== null);
  return {
    count: delivery.length,
    deliveryP50: median(delivery),
    deliveryMax: delivery.length ? Math.max(...delivery) : null,
    e2eP50: median(e2e),
  };
}

function fmtMs(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60000)} min`;
}

function fmtAge(now: number, iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function fmtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour12: false });
}

function fmtNum(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return n.toLocaleString(undefined, { maximumFractionDigits: 8 });
}
