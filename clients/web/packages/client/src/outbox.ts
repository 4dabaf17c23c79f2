/** The offline queue: messages sent while disconnected, bounded, oldest dropped first. */
import type { ClientMessage } from './types';

export class Outbox {
  private readonly items: ClientMessage[] = [];
  private readonly max: number;
  private readonly onOverflow: (dropped: ClientMessage) => void;

  constructor(maxSize: number, onOverflow: (dropped: ClientMessage) => void) {
    this.max = Math.max(1, maxSize);
    this.onOverflow = onOverflow;
  }

  get messages(): readonly ClientMessage[] {
    return this.items;
  }

  push(message: ClientMessage): void {
    this.items.push(message);
    while (this.items.length > this.max) {
      const dropped = this.items.shift();
      if (dropped) this.onOverflow(dropped);
    }
  }

  /** Everything queued, in order; the queue is empty afterwards. */
  drain(): ClientMessage[] {
    return this.items.splice(0);
  }
}
