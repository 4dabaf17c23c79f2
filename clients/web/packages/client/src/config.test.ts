import { describe, expect, it } from 'vitest';
import { DEFAULT_API_URL, resolveApiUrl, toWsUrl } from './config';

describe('configuration', () => {
  it('derives ws:// and wss:// from the API URL', () => {
    expect(toWsUrl('http://localhost:9001')).toBe('ws://localhost:9001/ws/signals');
    expect(toWsUrl('https://signals.example.com/')).toBe('wss://signals.example.com/ws/signals');
    expect(toWsUrl('https://example.com/prefix')).toBe('wss://example.com/prefix/ws/signals');
    expect(() => toWsUrl('ftp://example.com')).toThrow(/Unsupported/);
  });

  it('defaults to http://localhost:9001, whatever page it runs in', () => {
    expect(DEFAULT_API_URL).toBe('http://localhost:9001');
    expect(resolveApiUrl(undefined)).toBe('http://localhost:9001');
    expect(resolveApiUrl('  ')).toBe('http://localhost:9001');
    expect(resolveApiUrl('http://10.0.0.5:9001/')).toBe('http://10.0.0.5:9001');
  });
});
