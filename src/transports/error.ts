export type TransportErrorKind = 'network' | 'http' | 'content-type' | 'stream' | 'socket' | 'handshake';

export interface TransportErrorDetails {
  kind: TransportErrorKind;
  /** plain words, safe to show and to log (never contains a token) */
  message: string;
  /** true when trying again may help */
  retryable: boolean;
  /** HTTP status, when there was a response */
  status?: number;
  /** WebSocket close code, when a socket closed */
  closeCode?: number;
  /** the server asked to wait this long (Retry-After) */
  retryAfterMs?: number;
  /** a 404 for the path itself (the framework's own "Not Found"), not for the thing asked about */
  routeMissing?: boolean;
  /** nothing is broken: the platform offers this viewer no stream or status here */
  unavailable?: boolean;
}

/** What went wrong on the wire, in terms the operator and the retry policy both understand. */
export class TransportError extends Error implements TransportErrorDetails {
  readonly kind: TransportErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly closeCode?: number;
  readonly retryAfterMs?: number;
  readonly routeMissing?: boolean;
  readonly unavailable?: boolean;

  constructor(details: TransportErrorDetails, options?: { cause?: unknown }) {
    super(details.message, options);
    this.name = 'TransportError';
    this.kind = details.kind;
    this.retryable = details.retryable;
    this.status = details.status;
    this.closeCode = details.closeCode;
    this.retryAfterMs = details.retryAfterMs;
    this.routeMissing = details.routeMissing;
    this.unavailable = details.unavailable;
  }

  /** The same error with some of its details changed (errors are not mutated). */
  with(changes: Partial<TransportErrorDetails>): TransportError {
    const { kind, message, retryable, status, closeCode, retryAfterMs, routeMissing, unavailable } = this;
    return new TransportError({ kind, message, retryable, status, closeCode, retryAfterMs, routeMissing, unavailable, ...changes }, { cause: this.cause });
  }
}

export function isTransportError(value: unknown): value is TransportError {
  return value instanceof TransportError;
}

/** A request that never got an answer: refused, reset, offline, aborted by a timeout. */
export function networkError(error: unknown): TransportError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TransportError({ kind: 'network', message: `Connection failed: ${reason}`, retryable: true }, { cause: error });
}
