/** One error type for the whole gateway: every failure becomes OpenAI-shaped JSON with the status OpenAI uses. */

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'upstream_error'
  | 'timeout_error';

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null };
}

export interface GatewayErrorInit {
  status: number;
  code: string;
  type?: OpenAIErrorType;
  param?: string | null;
  /** Extra response headers (Retry-After, rate-limit headers). */
  headers?: Record<string, string>;
  /** Whether another attempt (retry or fallback) may succeed; only meaningful for upstream failures. */
  retryable?: boolean;
  /** Upstream that failed, when the error comes from one. */
  upstream?: string;
  /** Delay the upstream asked for (Retry-After), in ms. */
  retryAfterMs?: number;
  cause?: unknown;
}

function defaultType(status: number): OpenAIErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status === 502 || status === 503) return 'upstream_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: OpenAIErrorType;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly retryable: boolean;
  readonly upstream: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: GatewayErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.status = init.status;
    this.code = init.code;
    this.type = init.type ?? defaultType(init.status);
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
    this.retryable = init.retryable ?? false;
    this.upstream = init.upstream;
    this.retryAfterMs = init.retryAfterMs;
  }

  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toResponse(extraHeaders?: Record<string, string>): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { 'content-type': 'application/json', ...this.headers, ...extraHeaders },
    });
  }
}

/** Anything thrown that is not a GatewayError is a bug: answer 500 without leaking its message or stack. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('The gateway hit an internal error; the request id identifies it in the logs.', {
    status: 500,
    code: 'internal_error',
    cause: err,
  });
}

export const errors = {
  badJson: (detail: string) =>
    new GatewayError(`We could not parse the JSON body of your request: ${detail}`, {
      status: 400,
      code: 'invalid_json',
    }),
  invalid: (message: string, param: string | null, code = 'invalid_value') => new GatewayError(message, { status: 400, code, param }),
  modelNotFound: (model: string) =>
    new GatewayError(`The model \`${model}\` does not exist or you do not have access to it.`, {
      status: 404,
      code: 'model_not_found',
      param: 'model',
    }),
  notFound: (path: string) => new GatewayError(`Unknown path: ${path}`, { status: 404, code: 'unknown_url' }),
  methodNotAllowed: (method: string, path: string, allowed: string) =>
    new GatewayError(`Method ${method} is not allowed on ${path}; use ${allowed}.`, {
      status: 405,
      code: 'method_not_allowed',
      headers: { allow: allowed },
    }),
  tooLarge: (limit: number) =>
    new GatewayError(`The request body exceeds the limit of ${limit} bytes.`, {
      status: 413,
      code: 'request_too_large',
    }),
  unsupportedMediaType: (got: string) =>
    new GatewayError(`Expected content-type application/json, got ${got || 'none'}.`, {
      status: 415,
      code: 'unsupported_media_type',
    }),
};
