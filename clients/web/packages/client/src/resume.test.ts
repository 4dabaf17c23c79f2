import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../../../test/fakes';
import { ResumeState } from './resume';

const KEY = 'k';

function create(stored?: string) {
  const storage = new MemoryStorage();
  if (stored !== undefined) storage.setItem(KEY, stored);
  const onReset = vi.fn();
  return { state: new ResumeState({ storage, storageKey: KEY, onReset }), storage, onReset };
}

describe('ResumeState', () => {
  it('accepts each seq once, in any order, and persists the highest', () => {
    const { state, storage } = create();
    expect([1, 2, 2, 1, 3].map((s) => state.accept(s))).toEqual([true, true, false, false, true]);
    expect(state.lastSeq).toBe(3);
    expect(storage.getItem(KEY)).toBe('3');
  });

  it('refuses what is not a finite number', () => {
    const { state } = create();
    expect(state.accept(Number.NaN)).toBe(false);
    expect(state.accept('5' as unknown as number)).toBe(false);
    expect(state.lastSeq).toBeNull();
  });

  it('resumes from the stored seq, and ignores a stored value that is not a seq', () => {
    expect(create('41').state.lastSeq).toBe(41);
    expect(create('-1').state.lastSeq).toBeNull();
    expect(create('abc').state.lastSeq).toBeNull();
    expect(new ResumeState({ storage: null, storageKey: KEY }).lastSeq).toBeNull();
  });

  it('never delivers a seq a snapshot already showed, even above the resume point', () => {
    const { state } = create('2');
    state.remember(4);
    state.remember(3);
    expect(state.accept(3)).toBe(false);
    expect(state.accept(4)).toBe(false);
    expect(state.accept(5)).toBe(true);
    expect(state.lastSeq).toBe(5);
  });

  it('starts at the server head when nothing is known', () => {
    const { state, onReset } = create();
    expect(state.observeHead(7)).toBe('started');
    expect(state.lastSeq).toBe(7);
    expect(state.observeHead(9)).toBe('unchanged');
    expect(state.lastSeq).toBe(7); // the gap 8..9 comes by replay, not by skipping it
    expect(onReset).not.toHaveBeenCalled();
  });

  it('resets when the server history is shorter than the resume point (a new database)', () => {
    const { state, storage, onReset } = create('900');
    state.remember(901);
    expect(state.observeHead(2)).toBe('reset');
    expect(onReset).toHaveBeenCalledOnce();
    expect(state.lastSeq).toBe(2);
    expect(storage.getItem(KEY)).toBe('2');
    expect(state.accept(3)).toBe(true);
    expect(state.accept(901)).toBe(true); // forgotten with the old history
  });

  it('forgets everything on clear', () => {
    const { state, storage } = create('5');
    state.clear();
    expect(state.lastSeq).toBeNull();
    expect(storage.getItem(KEY)).toBeNull();
    expect(state.accept(1)).toBe(true);
  });

  it('keeps working when storage throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const state = new ResumeState({ storage: broken, storageKey: KEY });
    expect(state.lastSeq).toBeNull();
    expect(state.accept(1)).toBe(true);
    expect(state.lastSeq).toBe(1);
    expect(() => state.clear()).not.toThrow();
  });
});
