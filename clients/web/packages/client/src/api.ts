/** Small typed wrappers over the SignalStream HTTP API. */
import { joinUrl } from './config';
import { SignalStreamError } from './errors';
import type { Signal, SignalPage, TicketResponse, TokenResponse } from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

function defaultFetch(): FetchLike {
  if (typeof fetch !== 'function') throw new Error('fetch is not available; pass options.fetch');
  return (input, init) => fetch(input, init);
}

export interface ApiOptions {
  apiUrl: string;
  fetch?: FetchLike;
}

/** Reads an RFC 9457 problem body's `title`/`detail`, if any. */
async function problemText(res: Response): Promise<string | undefined> {
  try {
    const text = await res.text();
    if (!text) return undefined;
    try {
      const body = JSON.parse(text) as { title?: string; detail?: string };
      const parts = [body.title, body.detail].filter((x): x is string => typeof x === 'string' && x !== '');
      return parts.length ? parts.join(': ') : undefined;
    } catch {
      return text.length < 200 ? text : undefined;
    }
  } catch {
    return undefined;
  }
}

async function request<T>(opts: ApiOptions, path: string, init: RequestInit, what: string): Promise<T> {
  const f = opts.fetch ?? defaultFetch();
  let res: Response;
  try {
    res = await f(joinUrl(opts.apiUrl, path), init);
  } catch (cause) {
    throw new SignalStreamError('unreachable', `Cannot reach the server at ${opts.apiUrl}.`, { cause });
  }
  if (res.status === 401) {
    const text = await problemText(res);
    throw new SignalStreamError('auth', text ?? `${what}: not authorized`, { status: 401 });
  }
  if (!res.ok) {
    const text = await problemText(res);
    throw new SignalStreamError('http', `${what} failed (${res.status})${text ? ': ' + text : ''}`, {
      status: res.status,
    });
  }
  try {
    return (await res.json()) as T;
  } catch (cause) {
    throw new SignalStreamError('internal', `${what}: the server's answer is not JSON`, { cause, status: res.status });
  }
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** `POST /api/auth/token` with a username and password. A wrong password is a `SignalStreamError` of kind `auth`. */
export function login(opts: ApiOptions, username: string, password: string): Promise<TokenResponse> {
  return request<TokenResponse>(
    opts,
    '/api/auth/token',
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username, password }),
    },
    'Log in',
  );
}

/** Token exchange: `POST /api/auth/token` with the current token as Bearer, for a fresh one. */
export function exchangeToken(opts: ApiOptions, token: string): Promise<TokenResponse> {
  return request<TokenResponse>(
    opts,
    '/api/auth/token',
    {
      method: 'POST',
      headers: { ...bearer(token), Accept: 'application/json' },
    },
    'Token refresh',
  );
}

/** `POST /api/auth/ws-ticket`: a single-use ticket for one WebSocket connection. */
export function getWsTicket(opts: ApiOptions, token: string): Promise<TicketResponse> {
  return request<TicketResponse>(
    opts,
    '/api/auth/ws-ticket',
    {
      method: 'POST',
      headers: { ...bearer(token), Accept: 'application/json' },
    },
    'WebSocket ticket',
  );
}

export interface ListSignalsQuery {
  limit?: number;
  premiumOnly?: boolean;
  afterSeq?: number;
}

/**
 * `GET /api/v1/signals`. Without `afterSeq`: newest first. With `afterSeq`: oldest first, seq greater than it.
 * Accepts both `{signals,last_seq}` and a bare array from the server.
 */
export async function listSignals(opts: ApiOptions, token: string, q: ListSignalsQuery = {}): Promise<SignalPage> {
  const path = joinUrl('http://x', '/api/v1/signals', {
    limit: q.limit,
    premium_only: q.premiumOnly ? 'true' : undefined,
    after_seq: q.afterSeq,
  }).slice('http://x'.length);
  const body = await request<SignalPage | Signal[]>(
    opts,
    path,
    {
      method: 'GET',
      headers: { ...bearer(token), Accept: 'application/json' },
    },
    'Loading signals',
  );
  if (Array.isArray(body)) return { signals: body };
  return { signals: Array.isArray(body.signals) ? body.signals : [], last_seq: body.last_seq };
}
