/** The API URL and the URLs derived from it. */

/** What the original Next.js app used (`NEXT_PUBLIC_API_URL`'s default). */
export const DEFAULT_API_URL = 'http://localhost:9001';
export const STREAM_PATH = '/ws/signals';

/**
 * The API URL: the explicit value, without trailing slashes, or `http://localhost:9001`.
 * Never read from the page (a page served by the API passes its own origin), so it is the same
 * during server-side rendering and in the browser.
 */
export function resolveApiUrl(explicit?: string | null): string {
  return explicit && explicit.trim() !== '' ? trimSlash(explicit.trim()) : DEFAULT_API_URL;
}

/** `http://h/x` → `ws://h/x/ws/signals`, `https://…` → `wss://…`. */
export function toWsUrl(apiUrl: string, path: string = STREAM_PATH): string {
  const url = new URL(trimSlash(apiUrl) + path);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new Error(`Unsupported API URL scheme: ${url.protocol}`);
  }
  return url.toString();
}

export function joinUrl(
  apiUrl: string,
  path: string,
  query?: Record<string, string | number | boolean | undefined | null>,
): string {
  const url = new URL(trimSlash(apiUrl) + path);
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
