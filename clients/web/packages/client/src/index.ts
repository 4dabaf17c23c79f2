/** @signalstream/client: a framework-free client for SignalStream (stream, REST calls, wire types). */
export { SignalSocket } from './SignalSocket';
export type { SignalSocketEvents, SignalMeta, StatusInfo } from './SignalSocket';
export type {
  SignalSocketOptions,
  GetToken,
  GetTokenOptions,
  WebSocketLike,
  WebSocketCtor,
  StorageLike,
} from './options';
export { isValidSymbol, normalizeSymbols, MAX_SYMBOLS } from './symbols';
export { exponentialBackoff, isTerminalCloseCode, backoffCap } from './backoff';
export type { ReconnectPolicy, ReconnectContext, BackoffOptions } from './backoff';
export { resolveApiUrl, toWsUrl, DEFAULT_API_URL } from './config';
export { SignalStreamError, describeCloseCode } from './errors';
export type { SignalStreamErrorKind } from './errors';
export { login, exchangeToken, getWsTicket, listSignals } from './api';
export type { ApiOptions, FetchLike, ListSignalsQuery } from './api';
export * from './types';
