/** Reconnect policy: when (and whether) to try again after a connection was lost or could not open. */

export interface ReconnectContext {
  /** Consecutive failed attempts before this one (0 for the first retry after a loss). */
  attempt: number;
  /** Close code of the connection that ended, if it got that far (1006 for an abnormal end). */
  code?: number;
  /** Whether the connection that ended had opened (and received `welcome`). */
  wasConnected: boolean;
}

/** Milliseconds to wait before the next attempt, or `null` for "do not reconnect". */
export type ReconnectPolicy = (ctx: ReconnectContext) => number | null;

export interface BackoffOptions {
  /** Base delay in ms (default 3000). */
  reconnectInterval?: number;
  /** Cap in ms (default 30000). */
  maxReconnectInterval?: number;
  /** Upper bound of the random delay after close 1001 (server going away), ms (default 1000). */
  goingAwayJitter?: number;
  /** Random source in [0, 1) (default Math.random). */
  random?: () => number;
}

/**
 * Close codes after which a client must not reconnect with the same credentials:
 * 1000 normal, 1003/1007/1009 client bugs, 4500-4999 auth/access.
 */
export function isTerminalCloseCode(code: number | undefined): boolean {
  if (code === undefined) return false;
  return code === 1000 || code === 1003 || code === 1007 || code === 1009 || (code >= 4500 && code <= 4999);
}

/** The exponential cap for an attempt: min(max, base * 2^attempt). */
export function backoffCap(attempt: number, base: number, max: number): number {
  const exp = base * Math.pow(2, Math.min(attempt, 30));
  return Math.min(max, exp);
}

/**
 * Default policy: exponential backoff with full jitter (a uniformly random delay in
 * [0, min(max, base·2^attempt))); terminal close codes stop; close 1001 (server shutting down)
 * reconnects at once with a small jitter so a fleet of clients does not arrive together;
 * 1013 (server overloaded) backs off four times longer.
 */
export function exponentialBackoff(options: BackoffOptions = {}): ReconnectPolicy {
  const base = options.reconnectInterval ?? 3000;
  const max = options.maxReconnectInterval ?? 30000;
  const goingAway = options.goingAwayJitter ?? 1000;
  const random = options.random ?? Math.random;
  return ({ attempt, code }) => {
    if (isTerminalCloseCode(code)) return null;
    if (code === 1001 && attempt === 0) return Math.floor(random() * goingAway);
    let cap = backoffCap(attempt, base, max);
    if (code === 1013) cap = Math.min(max, cap * 4);
    return Math.floor(random() * cap);
  };
}
