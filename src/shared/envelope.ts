/** Every IPC call answers one of these; the renderer never sees a thrown error. */
export const ERROR_CODES = [
  'invalid',
  'unauthenticated',
  'forbidden',
  'locked',
  'not_found',
  'conflict',
  'rate_limited',
  'setup_required',
  'unknown_channel',
  /** An upstream cannot be reached and nothing is cached to serve instead. */
  'unavailable',
  /** The renderer lost its connection to main (browser host restarting). */
  'disconnected',
  /** The station's disk is full (or failing): nothing was saved; it works again once space is freed. */
  'disk_full',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldIssue {
  /** Dotted path into the payload, '' for the payload itself. */
  path: string;
  message: string;
}

export interface AppError {
  code: ErrorCode;
  message: string;
  issues?: FieldIssue[];
  retryAfterMs?: number;
}

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: AppError };

/** Thrown by services for expected failures; the router turns it into an envelope. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: Pick<AppError, 'issues' | 'retryAfterMs'> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
