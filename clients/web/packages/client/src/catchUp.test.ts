import { describe, expect, it, vi } from 'vitest';
import { makeSignal, MemoryStorage } from '../../../test/fakes';
import { catchUpOverRest } from './catchUp';
import { ResumeState } from './resume';
import type { Signal, SignalPage } from './types';

/** A REST list over seqs 1..head, as the server answers `after_seq` queries. */
function restList(head: number) {
  return vi.fn(async (after: number, limit: number): Promise<SignalPage> => {
    const signals: Signal[] = [];
    for (let s = after + 1; s <= head && signals.length < limit; s++) signals.push(makeSignal(s));
    return { signals: signals.reverse(), last_seq: head }; // order must not matter
  });
}

function resumeAt(seq: number | null) {
  const storage = new MemoryStorage();
  if (seq !== null) storage.setItem('k', String(seq));
  return new ResumeState({ storage, storageKey: 'k' });
}

describe('catchUpOverRest', () => {
  it('pages after the resume point until a short page, delivering in seq order', async () => {
    const resume = resumeAt(10);
    const fetchPage = restList(25);
    const delivered: number[] = [];
    await catchUpOverRest({
      resume,
      fetchPage,
      deliver: (s) => delivered.push(s.seq),
      stillWanted: () => true,
      pageSize: 5,
    });
    expect(fetchPage.mock.calls).toEqual([
      [10, 5],
      [15, 5],
      [20, 5],
      [25, 5],
    ]);
    expect(delivered).toEqual([...Array(15).keys()].map((i) => i + 11));
    expect(resume.lastSeq).toBe(25);
  });

  it('stops at a page from another history, starting over at its head', async () => {
    const resume = resumeAt(10);
    resume.observeHead(10, 'e1');
    const delivered: number[] = [];
    const fetchPage = vi.fn(async (): Promise<SignalPage> => ({
      signals: [makeSignal(11), makeSignal(12)],
      last_seq: 30,
      epoch: 'e2',
    }));
    await catchUpOverRest({ resume, fetchPage, deliver: (s) => delivered.push(s.seq), stillWanted: () => true });
    expect(delivered).toEqual([]); // seqs 11 and 12 of another history are not what follows 10
    expect(resume.lastSeq).toBe(30);
    expect(resume.epoch).toBe('e2');
  });

  it('skips what was already delivered', async () => {
    const resume = resumeAt(0);
    resume.remember(2);
    const delivered: number[] = [];
    await catchUpOverRest({
      resume,
      fetchPage: restList(3),
      deliver: (s) => delivered.push(s.seq),
      stillWanted: () => true,
    });
    expect(delivered).toEqual([1, 3]);
  });

  it('stops as soon as it is no longer wanted', async () => {
    const resume = resumeAt(0);
    let wanted = true;
    const fetchPage = vi.fn(async (after: number, limit: number) => {
      wanted = false;
      return restList(100)(after, limit);
    });
    const delivered: number[] = [];
    await catchUpOverRest({
      resume,
      fetchPage,
      deliver: (s) => delivered.push(s.seq),
      stillWanted: () => wanted,
      pageSize: 10,
    });
    expect(fetchPage).toHaveBeenCalledOnce();
    expect(delivered).toEqual([]);
  });

  it('starts over at the server head when the server history is shorter (new database)', async () => {
    const resume = resumeAt(500);
    const onDeliver = vi.fn();
    await catchUpOverRest({ resume, fetchPage: restList(3), deliver: onDeliver, stillWanted: () => true });
    expect(resume.lastSeq).toBe(3);
    expect(onDeliver).not.toHaveBeenCalled();
  });

  it('reads from the start when nothing is known', async () => {
    const resume = resumeAt(null);
    const fetchPage = restList(2);
    await catchUpOverRest({ resume, fetchPage, deliver: () => {}, stillWanted: () => true });
    expect(fetchPage.mock.calls[0]?.[0]).toBe(0);
    expect(resume.lastSeq).toBe(2);
  });
});
