/** The dashboard's login session: kept in sessionStorage (per tab, gone when the tab closes). */
import { exchangeToken, SignalStreamError, type GetToken, type Tier, type TokenResponse } from '@signalstream/client';

export interface Session {
  username: string;
  userId: string;
  tier: Tier;
  accessToken: string;
  /** ms since epoch */
  expiresAt: number;
}

const KEY = 'signalstream.session';

export function sessionFromToken(username: string, t: TokenResponse, now = Date.now()): Session {
  return {
    username,
    userId: t.user_id,
    tier: t.tier,
    accessToken: t.access_token,
    expiresAt: now + Math.max(0, t.expires_in) * 1000,
  };
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (!s.accessToken || !s.expiresAt || s.expiresAt <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage unavailable: the session lives in memory only */
  }
}

export const SESSION_EXPIRED = 'Your session expired. Log in again.';

/**
 * A token source for SignalSocket: the session's token while it is valid; on `refresh`, a token
 * exchange with the server. A session that is over is reported as an `auth` error.
 */
export function makeTokenSource(apiUrl: string, get: () => Session | null, set: (s: Session) => void): GetToken {
  return async ({ refresh }) => {
    const s = get();
    if (!s) throw new SignalStreamError('auth', 'Log in first.');
    if (s.expiresAt - 1000 <= Date.now()) throw new SignalStreamError('auth', SESSION_EXPIRED);
    if (!refresh) return s.accessToken;
    try {
      const t = await exchangeToken({ apiUrl }, s.accessToken);
      const next = { ...sessionFromToken(s.username, t), tier: t.tier ?? s.tier };
      set(next);
      return next.accessToken;
    } catch (err) {
      if (err instanceof SignalStreamError && err.kind === 'auth') {
        throw new SignalStreamError('auth', SESSION_EXPIRED, { status: err.status });
      }
      throw err;
    }
  };
}
