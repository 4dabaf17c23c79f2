/** Errors the client reports, each with a kind a UI can act on. */

export type SignalStreamErrorKind =
  /** Credentials missing, wrong, expired or revoked: log in again. */
  | 'auth'
  /** The server could not be reached (network error, refused connection). */
  | 'unreachable'
  /** The server refused a request (4xx/5xx other than 401). */
  | 'http'
  /** The server closed the stream with a code that forbids reconnecting. */
  | 'closed'
  /** Anything else (bad JSON, a bug). */
  | 'internal';

export class SignalStreamError extends Error {
  readonly kind: SignalStreamErrorKind;
  readonly status?: number;
  readonly closeCode?: number;

  constructor(
    kind: SignalStreamErrorKind,
    message: string,
    extra: { status?: number; closeCode?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'SignalStreamError';
    this.kind = kind;
    this.status = extra.status;
    this.closeCode = extra.closeCode;
  }
}

/** A human message for a terminal close code. */
export function describeCloseCode(code: number, reason?: string): string {
  const suffix = reason ? ` (${reason})` : '';
  switch (code) {
    case 1000:
      return 'The server closed the connection.' + suffix;
    case 1003:
    case 1007:
    case 1009:
    case 4501:
      return `The server rejected the client's messages (close ${code}); this is a client bug.` + suffix;
    case 4001:
      return 'Your session expired.';
    case 4500:
      return 'Your session is no longer valid. Log in again.';
    case 4503:
      return 'This account is disabled or its access was revoked.';
    case 4504:
      return 'Too many open connections for this account. Close another tab or device.';
    default:
      return `The server closed the connection (code ${code}).` + suffix;
  }
}

/** Any thrown value as a SignalStreamError (kind `internal` unless it already is one). */
export function toSignalStreamError(err: unknown): SignalStreamError {
  if (err instanceof SignalStreamError) return err;
  return new SignalStreamError('internal', err instanceof Error ? err.message : String(err), { cause: err });
}
