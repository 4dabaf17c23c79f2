/** Catching up through the REST list: every signal after the resume point, oldest first, page by page. */
import type { ResumeState } from './resume';
import type { Signal, SignalPage } from './types';

export const REST_PAGE = 500;

export interface CatchUpOptions {
  resume: ResumeState;
  /** `GET /api/v1/signals?after_seq=…&limit=pageSize`. */
  fetchPage: (afterSeq: number, limit: number) => Promise<SignalPage>;
  /** Called for each signal the resume state accepts, in seq order. */
  deliver: (signal: Signal) => void;
  /** Checked after every await: false stops at once (the connection that asked is gone). */
  stillWanted: () => boolean;
  pageSize?: number;
}

export async function catchUpOverRest(options: CatchUpOptions): Promise<void> {
  const { resume, fetchPage, deliver, stillWanted } = options;
  const pageSize = options.pageSize ?? REST_PAGE;
  for (;;) {
    if (!stillWanted()) return;
    const after = resume.lastSeq ?? 0;
    const page = await fetchPage(after, pageSize);
    if (!stillWanted()) return;
    // A server with another history (another epoch, or one ending before our resume point): start over there.
    if (
      resume.lastSeq !== null &&
      page.last_seq !== undefined &&
      resume.observeHead(page.last_seq, page.epoch) === 'reset'
    )
      return;
    const signals = [...page.signals].sort((a, b) => a.seq - b.seq);
    for (const s of signals) if (resume.accept(s.seq)) deliver(s);
    if (signals.length < pageSize) return;
  }
}
