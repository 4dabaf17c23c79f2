/** Message dispatch: one server frame in, one typed handler call out. */
import type { ResyncRequiredMessage, ServerMessage, Signal, Tier, TokenExpiringMessage, WelcomeMessage } from './types';

export interface MessageHandlers {
  /** Every well-formed message, before its own handler. */
  message(msg: ServerMessage): void;
  welcome(msg: WelcomeMessage): void;
  signal(signal: Signal): void;
  resyncRequired(msg: ResyncRequiredMessage): void;
  tierChanged(tier: Tier): void;
  tokenExpiring(msg: TokenExpiringMessage): void;
}

/** A text frame parsed as a server message, or null for anything else (binary, bad JSON, not an object). */
export function parseFrame(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return null;
  }
  return msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? (msg as ServerMessage) : null;
}

/** Parses a frame and calls the handler for its type; unknown types reach only `message`. */
export function dispatchFrame(data: unknown, handlers: MessageHandlers): void {
  const msg = parseFrame(data);
  if (!msg) return;
  handlers.message(msg);
  switch (msg.type) {
    case 'welcome':
      handlers.welcome(msg);
      break;
    case 'signal': {
      const signal = msg.signal;
      if (!signal) break;
      // The envelope's seq is authoritative when the signal itself lacks one.
      if (typeof signal.seq !== 'number' && typeof msg.seq === 'number') signal.seq = msg.seq;
      handlers.signal(signal);
      break;
    }
    case 'resync_required':
      handlers.resyncRequired(msg);
      break;
    case 'tier_changed':
      handlers.tierChanged(msg.tier);
      break;
    case 'token_expiring':
      handlers.tokenExpiring(msg);
      break;
    default:
      break;
  }
}
