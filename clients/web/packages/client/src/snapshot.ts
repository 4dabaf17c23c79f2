/** The snapshot: the newest signals over REST, loaded once before the first connection or poll. */
import { listSignals, type ApiOptions } from './api';
import type { ResumeState } from './resume';
import type { Signal } from './types';

export interface SnapshotOptions {
  api: ApiOptions;
  resume: ResumeState;
  /** How many of the newest signals to load (0: none). */
  limit: number;
  premiumOnly?: boolean;
  /** Receives the snapshot, newest first. */
  loaded: (newestFirst: Signal[]) => void;
}

export class Snapshot {
  private readonly opts: SnapshotOptions;
  private done = false;
  private pending: Promise<void> | null = null;

  constructor(options: SnapshotOptions) {
    this.opts = options;
  }

  /** Loads it unless it was loaded already; concurrent callers share one request. */
  ensure(token: string): Promise<void> {
    if (this.done) return Promise.resolve();
    this.pending ??= this.load(token).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forgets it, so the next `ensure` loads it again (after a reset). */
  invalidate(): void {
    this.done = false;
    this.pending = null;
  }

  /** Marks the shown seqs as delivered, and sets the resume point when none was stored. */
  private async load(token: string): Promise<void> {
    const { api, resume, limit, premiumOnly } = this.opts;
    if (limit > 0) {
      const page = await listSignals(api, token, { limit, premiumOnly });
      const signals = [...page.signals].sort((a, b) => b.seq - a.seq);
      if (page.last_seq !== undefined) resume.observeHead(page.last_seq);
      for (const s of signals) resume.remember(s.seq);
      // A server that answers a bare array gives no head: the newest signal shown is the resume point.
      if (resume.lastSeq === null) resume.observeHead(signals[0]?.seq ?? 0);
      this.opts.loaded(signals);
    }
    this.done = true;
  }
}
