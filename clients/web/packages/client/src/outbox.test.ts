import { describe, expect, it, vi } from 'vitest';
import { Outbox } from './outbox';

describe('Outbox', () => {
  it('keeps order, drops the oldest beyond its bound and reports each drop', () => {
    const dropped = vi.fn();
    const box = new Outbox(2, dropped);
    for (let ts = 1; ts <= 4; ts++) box.push({ type: 'ping', ts });
    expect(box.messages).toEqual([
      { type: 'ping', ts: 3 },
      { type: 'ping', ts: 4 },
    ]);
    expect(dropped.mock.calls).toEqual([[{ type: 'ping', ts: 1 }], [{ type: 'ping', ts: 2 }]]);
    expect(box.drain()).toEqual([
      { type: 'ping', ts: 3 },
      { type: 'ping', ts: 4 },
    ]);
    expect(box.messages).toEqual([]);
  });

  it('holds at least one message', () => {
    const box = new Outbox(0, () => {});
    box.push({ type: 'ping', ts: 1 });
    expect(box.messages).toHaveLength(1);
  });
});
