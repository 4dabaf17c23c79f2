/** API base URL resolution and URL helpers. */

export const DEFAULT_API_BASE = 'http://localhost:9001';
export const STREAM_PATH = '/ws/signals';

interface LocationLike { protocol: string; origin: string }

/**
 * The API base URL: an explicit value wins; otherwise the page's own origin when the page is
 * served over http(s) (the dashboard served by the server), otherwise `http://localhost:9001`.
 */
export function resolveApiBase(explicit?: string | null, location?: LocationLike | null): string {
  if (explicit && explicit.trim() !== '') return trimSlash(explicit.trim());
  const loc = location === undefined ? (typeof window !== 'undefined' ? window.location : null) : location;
  if (loc && (loc.protocol === 'http:' || loc.protocol === 'https:') && loc.origin && loc.origin !== 'null') {
    return trimSlash(loc.origin);
  }
  return DEFAULT_API_BASE;
}

/** `http://h/x` → `ws://h/x/ws/signals`, `https://…` → `wss://…`. */
export function toWsUrl(apiBase: string, path: string = STREAM_PATH): string {
  const url = new URL(trimSlash(apiBase) + path);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new Error(`Unsupported API base URL scheme: ${url.protocol}`);
  }
  return url.toString();
}

export function joinUrl(apiBase: string, path: string, query?: Record<string, string | number | boolean | undefined | null>): string {
  const url = new URL(trimSlash(apiBase) + path);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  return url.toString();
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
