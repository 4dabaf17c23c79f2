import { describe, expect, it, vi } from 'vitest';
import { FakeApi, MemoryStorage } from '../../../test/fakes';
import { ResumeState } from './resume';
import { Snapshot } from './snapshot';
import type { Signal } from './types';

function create(api: FakeApi, opts: { limit?: number; stored?: string } = {}) {
  const storage = new MemoryStorage();
  if (opts.stored !== undefined) storage.setItem('k', opts.stored);
  const onReset = vi.fn();
  const resume = new ResumeState({ storage, storageKey: 'k', onReset });
  const loaded: Signal[][] = [];
  const snapshot = new Snapshot({
    api: { apiUrl: 'http://api.test', fetch: api.fetch },
    resume,
    limit: opts.limit ?? 10,
    loaded: (list) => loaded.push(list),
  });
  return { snapshot, resume, loaded, onReset };
}

const seqs = (list: Signal[] | undefined) => list?.map((s) => s.seq);

describe('Snapshot', () => {
  it('loads the newest signals once, newest first, shared by concurrent callers', async () => {
    const api = new FakeApi();
    api.add(1, 2, 3);
    const { snapshot, resume, loaded } = create(api, { limit: 2 });
    await Promise.all([snapshot.ensure('tok'), snapshot.ensure('tok')]);
    await snapshot.ensure('tok');
    expect(api.callsTo('/api/v1/signals')).toHaveLength(1);
    expect(api.calls[0]?.query.get('limit')).toBe('2');
    expect(seqs(loaded[0])).toEqual([3, 2]);
    expect(resume.lastSeq).toBe(3); // nothing was stored: resume at the server's head
    expect(resume.accept(3)).toBe(false);
  });

  it('keeps a stored resume point below the head, and marks what it showed as delivered', async () => {
    const api = new FakeApi();
    api.add(1, 2, 3, 4);
    const { snapshot, resume } = create(api, { limit: 2, stored: '1' });
    await snapshot.ensure('tok');
    expect(resume.lastSeq).toBe(1);
    expect([2, 3, 4].map((s) => resume.accept(s))).toEqual([true, false, false]);
  });

  it('resets a stored resume point beyond the server head (a new database)', async () => {
    const api = new FakeApi();
    api.add(1, 2);
    const { snapshot, resume, onReset } = create(api, { stored: '900' });
    await snapshot.ensure('tok');
    expect(onReset).toHaveBeenCalledOnce();
    expect(resume.lastSeq).toBe(2);
  });

  it('takes the newest signal as the head from a server that answers a bare array', async () => {
    const api = new FakeApi();
    api.fetch.mockResolvedValueOnce(new Response(JSON.stringify([{ seq: 5 }, { seq: 7 }]), { status: 200 }));
    const { snapshot, resume } = create(api);
    await snapshot.ensure('tok');
    expect(resume.lastSeq).toBe(7);
  });

  it('asks nothing with limit 0, and loads again after invalidate', async () => {
    const api = new FakeApi();
    const none = create(api, { limit: 0 });
    await none.snapshot.ensure('tok');
    expect(api.calls).toHaveLength(0);
    expect(none.loaded).toHaveLength(0);

    const some = create(api);
    await some.snapshot.ensure('tok');
    some.snapshot.invalidate();
    await some.snapshot.ensure('tok');
    expect(some.loaded).toHaveLength(2);
  });

  it('fails with the request, and tries again on the next call', async () => {
    const api = new FakeApi();
    api.down = true;
    const { snapshot, loaded } = create(api);
    await expect(snapshot.ensure('tok')).rejects.toMatchObject({ kind: 'unreachable' });
    api.down = false;
    await snapshot.ensure('tok');
    expect(loaded).toHaveLength(1);
  });
});
