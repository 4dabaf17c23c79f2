/** Wire types of the SignalStream protocol (see PROTOCOL.md). All fields snake_case. */

export type Tier = 'STARTER' | 'PROFESSIONAL' | 'INSTITUTIONAL';

export const TIERS: readonly Tier[] = ['STARTER', 'PROFESSIONAL', 'INSTITUTIONAL'];

/** A stored signal as the server sends it. */
export interface Signal {
  id: string;
  seq: number;
  external_id: string;
  source: string;
  symbol: string;
  side: 'BUY' | 'SELL' | string;
  entry_price?: number | null;
  stop_loss?: number | null;
  take_profit?: number | null;
  confidence?: number | null;
  timeframe?: string | null;
  premium?: boolean;
  min_tier?: Tier | string;
  notes?: string | null;
  generated_at?: string | null;
  received_at: string;
}

export interface WelcomeMessage {
  type: 'welcome';
  connection_id: string;
  user_id: string;
  tier: Tier;
  last_seq: number;
  heartbeat_ms: number;
  server_time: string;
}
export interface SignalMessage {
  type: 'signal';
  seq: number;
  signal: Signal;
}
export interface ReplayCompleteMessage {
  type: 'replay_complete';
  from_seq: number;
  to_seq: number;
  count: number;
}
export interface ResyncRequiredMessage {
  type: 'resync_required';
  reason: string;
  oldest_seq: number;
}
export interface TierChangedMessage {
  type: 'tier_changed';
  tier: Tier;
}
export interface PongMessage {
  type: 'pong';
  ts?: number;
}
export interface TokenExpiringMessage {
  type: 'token_expiring';
  expires_at: string;
}
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

export type ServerMessage =
  | WelcomeMessage
  | SignalMessage
  | ReplayCompleteMessage
  | ResyncRequiredMessage
  | TierChangedMessage
  | PongMessage
  | TokenExpiringMessage
  | ErrorMessage;

export type ClientMessage =
  | { type: 'ping'; ts: number }
  | { type: 'resume'; after_seq: number }
  | { type: 'subscribe'; symbols: string[] }
  | { type: 'refresh'; token: string }
  | { type: string; [key: string]: unknown };

/** `POST /api/auth/token` answer. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  user_id: string;
  tier: Tier;
}

/** `POST /api/auth/ws-ticket` answer. */
export interface TicketResponse {
  ticket: string;
  expires_in: number;
}

/** `GET /api/v1/signals` answer (the server may also answer a bare array). */
export interface SignalPage {
  signals: Signal[];
  last_seq?: number;
}

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'polling' | 'disconnected';

/** Where a delivered signal came from. */
export type SignalOrigin = 'snapshot' | 'live' | 'replay' | 'resync' | 'poll';

export function tierRank(tier: string | undefined | null): number {
  const i = TIERS.indexOf((tier ?? 'STARTER').toUpperCase() as Tier);
  return i < 0 ? 0 : i;
}

/** The protocol's visibility rule: a user sees a signal when the user's tier is at or above its min_tier. */
export function canSee(userTier: string, signal: Pick<Signal, 'premium' | 'min_tier'>): boolean {
  return tierRank(userTier) >= effectiveMinTier(signal);
}

export function effectiveMinTier(signal: Pick<Signal, 'premium' | 'min_tier'>): number {
  const declared = tierRank(signal.min_tier);
  return signal.premium === true ? Math.max(declared, 1) : declared;
}

export function isPremium(signal: Pick<Signal, 'premium' | 'min_tier'>): boolean {
  return effectiveMinTier(signal) >= 1;
}
