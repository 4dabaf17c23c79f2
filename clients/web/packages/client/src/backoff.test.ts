import { describe, expect, it } from 'vitest';
import { backoffCap, exponentialBackoff, isTerminalCloseCode } from './backoff';

describe('exponentialBackoff', () => {
  it('doubles from reconnectInterval up to maxReconnectInterval (the top of the jitter range)', () => {
    const top = exponentialBackoff({ random: () => 0.999999 });
    const delays = [0, 1, 2, 3, 4, 5, 10].map((attempt) => top({ attempt, code: 1006, wasConnected: false }));
    expect(delays).toEqual([2999, 5999, 11999, 23999, 29999, 29999, 29999]);
  });

  it('uses full jitter: every delay lies in [0, cap) and the range is used', () => {
    const policy = exponentialBackoff();
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = backoffCap(attempt, 3000, 30000);
      const samples = Array.from({ length: 400 }, () => policy({ attempt, code: 1006, wasConnected: false }) as number);
      for (const d of samples) {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(cap);
      }
      // Not a constant: the spread covers most of the range.
      expect(Math.max(...samples) - Math.min(...samples)).toBeGreaterThan(cap * 0.5);
    }
  });

  it('with random() = 0 reconnects at once', () => {
    expect(exponentialBackoff({ random: () => 0 })({ attempt: 7, code: 1011, wasConnected: true })).toBe(0);
  });

  it('caps at maxReconnectInterval however many attempts', () => {
    expect(backoffCap(1000, 3000, 30000)).toBe(30000);
    const p = exponentialBackoff({ reconnectInterval: 100, maxReconnectInterval: 1000, random: () => 0.999999 });
    expect(p({ attempt: 50, code: 1006, wasConnected: false })).toBe(999);
  });

  it.each([1000, 1003, 1007, 1009, 4500, 4501, 4503, 4504, 4999])(
    'does not reconnect after terminal close %i',
    (code) => {
      expect(isTerminalCloseCode(code)).toBe(true);
      expect(exponentialBackoff()({ attempt: 0, code, wasConnected: true })).toBeNull();
    },
  );

  it.each([1001, 1006, 1008, 1011, 1013, 4000, 4001, 4003, 4004, 4499])('reconnects after close %i', (code) => {
    expect(isTerminalCloseCode(code)).toBe(false);
    expect(exponentialBackoff()({ attempt: 0, code, wasConnected: true })).not.toBeNull();
  });

  it('reconnects almost at once, with jitter, after 1001 (server shutting down)', () => {
    const top = exponentialBackoff({ random: () => 0.999999 });
    expect(top({ attempt: 0, code: 1001, wasConnected: true })).toBeLessThan(1000);
    expect(exponentialBackoff({ random: () => 0.5 })({ attempt: 0, code: 1001, wasConnected: true })).toBe(500);
  });

  it('backs off longer after 1013 (server overloaded)', () => {
    const top = exponentialBackoff({ random: () => 0.999999 });
    expect(top({ attempt: 0, code: 1013, wasConnected: true })).toBe(11999);
  });
});
