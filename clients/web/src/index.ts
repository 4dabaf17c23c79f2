/** Public entry point of the SignalStream web client. */
export { SignalSocket, isValidSymbol, normalizeSymbols, MAX_SYMBOLS } from './lib/signalSocket';
export type {
  SignalSocketOptions,
  SignalSocketEvents,
  SignalMeta,
  StatusInfo,
  GetTokenOptions,
  WebSocketLike,
  WebSocketCtor,
  StorageLike,
} from './lib/signalSocket';
export { exponentialBackoff, isTerminalCloseCode, backoffCap } from './lib/backoff';
export type { ReconnectPolicy, ReconnectContext, BackoffOptions } from './lib/backoff';
export { resolveApiBase, toWsUrl, DEFAULT_API_BASE } from './lib/config';
export { SignalStreamError, describeCloseCode } from './lib/errors';
export type { SignalStreamErrorKind } from './lib/errors';
export { login, exchangeToken, getWsTicket, listSignals } from './lib/api';
export * from './lib/types';
export { useSignals, SignalStreamProvider, mergeSignals } from './react/useSignals';
export type { UseSignalsOptions, UseSignalsResult, SignalStreamConfig } from './react/useSignals';
