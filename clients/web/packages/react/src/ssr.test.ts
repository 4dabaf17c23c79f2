// @vitest-environment node
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('server-side rendering', () => {
  it('imports both built packages in plain Node, uses the client and renders the provider with useSignals', () => {
    const script = fileURLToPath(new URL('../../../test/ssr.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    expect(result.browserGlobals).toEqual([]); // it really ran without a browser
    expect(result.socketStatus).toBe('disconnected');
    expect(result.wsUrl).toBe('wss://signals.example.com/ws/signals');
    expect(result.fetchCalls).toEqual(['https://signals.example.com/api/v1/signals?limit=5']);
    expect(result.lastSeq).toBe(7);
    expect(result.html).toBe('<p>loading 0 connecting </p>');
  });
});
