import { describe, expect, it, vi } from 'vitest';
import { makeSignal } from '../../../test/fakes';
import { dispatchFrame, parseFrame, type MessageHandlers } from './dispatch';

function handlers() {
  return {
    message: vi.fn<MessageHandlers['message']>(),
    welcome: vi.fn<MessageHandlers['welcome']>(),
    signal: vi.fn<MessageHandlers['signal']>(),
    resyncRequired: vi.fn<MessageHandlers['resyncRequired']>(),
    tierChanged: vi.fn<MessageHandlers['tierChanged']>(),
    tokenExpiring: vi.fn<MessageHandlers['tokenExpiring']>(),
  };
}

const frame = (msg: unknown) => JSON.stringify(msg);

describe('parseFrame', () => {
  it.each([
    ['binary', new Uint8Array([1, 2])],
    ['bad JSON', '{"type":'],
    ['a number', '42'],
    ['null', 'null'],
    ['an array', '[{"type":"welcome"}]'],
  ])('ignores %s', (_name, data) => {
    expect(parseFrame(data)).toBeNull();
  });
});

describe('dispatchFrame', () => {
  it('calls the handler for each type, after message', () => {
    const h = handlers();
    const welcome = { type: 'welcome', last_seq: 3 };
    dispatchFrame(frame(welcome), h);
    dispatchFrame(frame({ type: 'resync_required', reason: 'gap', oldest_seq: 9 }), h);
    dispatchFrame(frame({ type: 'tier_changed', tier: 'INSTITUTIONAL' }), h);
    dispatchFrame(frame({ type: 'token_expiring', expires_at: 'x' }), h);
    expect(h.welcome).toHaveBeenCalledWith(welcome);
    expect(h.resyncRequired).toHaveBeenCalledWith({ type: 'resync_required', reason: 'gap', oldest_seq: 9 });
    expect(h.tierChanged).toHaveBeenCalledWith('INSTITUTIONAL');
    expect(h.tokenExpiring).toHaveBeenCalledOnce();
    expect(h.message).toHaveBeenCalledTimes(4);
    expect(h.signal).not.toHaveBeenCalled();
  });

  it('passes the signal, taking its seq from the envelope when it has none', () => {
    const h = handlers();
    const { seq: _omitted, ...withoutSeq } = makeSignal(7);
    dispatchFrame(frame({ type: 'signal', seq: 7, signal: withoutSeq }), h);
    dispatchFrame(frame({ type: 'signal', seq: 8, signal: makeSignal(8) }), h);
    expect(h.signal.mock.calls.map(([s]) => s.seq)).toEqual([7, 8]);
  });

  it('ignores a signal frame without a signal, and unknown types reach only message', () => {
    const h = handlers();
    dispatchFrame(frame({ type: 'signal', seq: 1 }), h);
    dispatchFrame(frame({ type: 'pong', ts: 1 }), h);
    dispatchFrame(frame({ type: 'from-the-future' }), h);
    expect(h.signal).not.toHaveBeenCalled();
    expect(h.message).toHaveBeenCalledTimes(3);
  });

  it('calls nothing for a frame that is not a message', () => {
    const h = handlers();
    dispatchFrame('not json', h);
    expect(h.message).not.toHaveBeenCalled();
  });
});
