/**
 * Resume and de-duplication state: the last seq seen (kept in storage so a reloaded page catches
 * up), the seqs already shown, and what to do when the server's history does not match them.
 * Every decision about "have we seen this?" and "where do we resume?" is made here.
 */
import type { StorageLike } from './options';

/** How many delivered seqs are remembered for de-duplication. */
const SEEN_LIMIT = 5000;

/** What the server's head did to the resume point. */
export type HeadChange =
  /** Nothing was known: the resume point starts at the server's head. */
  | 'started'
  /** The server's history is shorter than what was seen (a new database): everything known is stale. */
  | 'reset'
  | 'unchanged';

export interface ResumeStateOptions {
  storage: StorageLike | null;
  storageKey: string;
  /** Called when the state was reset (see `HeadChange`). */
  onReset?: () => void;
}

export class ResumeState {
  private seq: number | null;
  private readonly seen = new Set<number>();
  private readonly storage: StorageLike | null;
  private readonly storageKey: string;
  private readonly onReset: () => void;

  constructor(options: ResumeStateOptions) {
    this.storage = options.storage;
    this.storageKey = options.storageKey;
    this.onReset = options.onReset ?? (() => {});
    this.seq = this.readStored();
  }

  /** The resume point (`after_seq`): the last seq seen, or null before anything is known. */
  get lastSeq(): number | null {
    return this.seq;
  }

  /**
   * A signal arrived: true when it is new and must be delivered. Advances and persists the resume
   * point; a seq at or below it, or one already shown by a snapshot, is refused.
   */
  accept(seq: number): boolean {
    if (typeof seq !== 'number' || !Number.isFinite(seq)) return false;
    if (this.seq !== null && seq <= this.seq) return false;
    this.setSeq(seq);
    if (this.seen.has(seq)) return false;
    this.remember(seq);
    return true;
  }

  /** A seq shown by a snapshot (newest first, possibly above the resume point): never deliver it again. */
  remember(seq: number): void {
    this.seen.add(seq);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /** Compares the server's newest seq (from `welcome` or the REST list) with the resume point. */
  observeHead(serverLastSeq: number): HeadChange {
    if (this.seq === null) {
      this.setSeq(serverLastSeq);
      return 'started';
    }
    if (serverLastSeq < this.seq) {
      this.seen.clear();
      this.setSeq(serverLastSeq);
      this.onReset();
      return 'reset';
    }
    return 'unchanged';
  }

  /** Forgets everything, stored seq included (e.g. on log-out). */
  clear(): void {
    this.seq = null;
    this.seen.clear();
    try {
      this.storage?.removeItem(this.storageKey);
    } catch {
      /* storage unavailable */
    }
  }

  private setSeq(seq: number): void {
    this.seq = seq;
    try {
      this.storage?.setItem(this.storageKey, String(seq));
    } catch {
      /* quota or privacy mode */
    }
  }

  private readStored(): number | null {
    try {
      const raw = this.storage?.getItem(this.storageKey);
      if (raw === null || raw === undefined) return null;
      const n = Number(raw);
      return Number.isSafeInteger(n) && n >= 0 ? n : null;
    } catch {
      return null;
    }
  }
}
