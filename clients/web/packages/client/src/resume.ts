/**
 * Resume and de-duplication state: the last seq seen and the history (epoch) it counts in (both kept
 * in storage so a reloaded page catches up), the seqs already shown, and what to do when the
 * server's history does not match them. Every decision about "have we seen this?" and "where do we
 * resume?" is made here.
 */
import type { StorageLike } from './options';

/** How many delivered seqs are remembered for de-duplication. */
const SEEN_LIMIT = 5000;

/** What the server's head did to the resume point. */
export type HeadChange =
  /** Nothing was known: the resume point starts at the server's head. */
  | 'started'
  /**
   * The server holds another history (another epoch, or one shorter than what was seen: a reset or
   * restored database): everything known is stale.
   */
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
  private historyEpoch: string | null;
  private readonly seen = new Set<number>();
  private readonly storage: StorageLike | null;
  private readonly storageKey: string;
  private readonly onReset: () => void;

  constructor(options: ResumeStateOptions) {
    this.storage = options.storage;
    this.storageKey = options.storageKey;
    this.onReset = options.onReset ?? (() => {});
    this.seq = this.readStored();
    this.historyEpoch = this.seq === null ? null : this.read(this.epochKey);
  }

  /** The resume point (`after_seq`): the last seq seen, or null before anything is known. */
  get lastSeq(): number | null {
    return this.seq;
  }

  /** The history `lastSeq` counts in, as the server named it; null before it has. */
  get epoch(): string | null {
    return this.historyEpoch;
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

  /**
   * Compares the server's history (its newest seq and epoch, from `welcome`, `resync_required` or
   * the REST list) with the resume point. Another history starts again at its head.
   */
  observeHead(serverLastSeq: number, serverEpoch?: string): HeadChange {
    const known = this.historyEpoch;
    if (serverEpoch) this.setEpoch(serverEpoch);
    if (this.seq === null) {
      this.setSeq(serverLastSeq);
      return 'started';
    }
    if (
      serverLastSeq < this.seq ||
      (known !== null && serverEpoch !== undefined && serverEpoch !== '' && serverEpoch !== known)
    ) {
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
    this.historyEpoch = null;
    this.seen.clear();
    try {
      this.storage?.removeItem(this.storageKey);
      this.storage?.removeItem(this.epochKey);
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

  private get epochKey(): string {
    return `${this.storageKey}:epoch`;
  }

  private setEpoch(epoch: string): void {
    this.historyEpoch = epoch;
    try {
      this.storage?.setItem(this.epochKey, epoch);
    } catch {
      /* quota or privacy mode */
    }
  }

  private read(key: string): string | null {
    try {
      return this.storage?.getItem(key) ?? null;
    } catch {
      return null;
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
