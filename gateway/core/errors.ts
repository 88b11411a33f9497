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

/**
 * Every `code` the gateway answers with (docs/ARCHITECTURE.md has the table with statuses). A closed union so a typo
 * is a compile error and callers can branch on codes rather than on messages.
 */
export const ERROR_CODES = {
  // 400: the request itself
  invalid_json: 'body is not JSON',
  invalid_type: 'body is not a JSON object',
  too_deep: 'body nests too deeply',
  invalid_value: 'a field has a wrong value (param names it)',
  missing_required_parameter: 'a required field is absent (param names it)',
  too_many_messages: 'more messages than server.limits.max_messages',
  unsupported_parameter: 'the chosen destination cannot honour a field',
  unsupported_endpoint: 'the chosen destination does not serve this endpoint',
  invalid_prompt: 'the edge could not tokenize/template the prompt',
  context_length_exceeded: 'prompt + max_tokens exceed the context',
  upstream_bad_request: 'an upstream rejected the request (its message is passed on)',
  // 401/403: who is asking
  invalid_api_key: 'missing, malformed or unknown key',
  admin_required: 'operator endpoint without an admin key',
  model_not_allowed: "the key's allow-list excludes the model",
  // 404/405/413/415: the route
  model_not_found: 'no upstream serves the model',
  unknown_url: 'no such path',
  not_found: 'no such file or batch for this tenant',
  response_not_found: 'previous_response_id names no stored response (expired, never stored, or another tenant)',
  method_not_allowed: 'wrong method for the path',
  request_too_large: 'body over server.body_limit_bytes',
  unsupported_media_type: 'content-type is not JSON',
  // 429: limits
  rate_limit_exceeded: 'a key/tenant rpm or tpm limit',
  budget_exceeded: 'a spend budget or per-request cost cap',
  upstream_rate_limited: 'an upstream answered 429 (Retry-After passed on)',
  // 5xx: destinations
  no_upstream: 'no healthy destination is left for the model',
  no_allowed_destination: 'policy allows no destination for this data class',
  no_allowed_zone: 'no healthy destination in a zone the data class may reach (503; the message names the class; never widened)',
  latency_budget_unmeetable: 'no destination can meet the latency budget',
  upstream_auth_failed: "an upstream rejected the gateway's own credentials",
  upstream_error: 'an upstream failed (5xx or broken answer)',
  upstream_unavailable: 'connection refused / reset',
  upstream_circuit_open: "every candidate's breaker is open",
  upstream_timeout: 'an upstream exceeded its total timeout',
  upstream_connect_timeout: 'an upstream did not accept the connection in time',
  upstream_first_byte_timeout: 'an upstream sent no first byte in time',
  upstream_idle_timeout: 'an upstream stream went quiet mid-answer',
  budget_unavailable: 'spend budgets could not be checked (store down) and budgets.on_store_error is fail_closed (Retry-After set)',
  edge_unavailable: 'the edge model is not loaded (or its worker died)',
  edge_kv_exhausted: 'the edge KV cache cannot hold the request',
  edge_deadline: "the edge could not finish within the request's budget",
  edge_error: 'the edge engine ended a request without an answer',
  // 499: nobody is listening any more
  client_closed_request: 'the client went away before the answer ended (not an error of ours; logged at info)',
  internal_error: 'a bug: logged with the request id, message not leaked',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null };
}

export interface GatewayErrorInit {
  status: number;
  code: ErrorCode;
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
  readonly code: ErrorCode;
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

function availableText(available: readonly string[] | undefined): string {
  if (available === undefined) return '';
  if (available.length === 0) return ' No models are configured.';
  const shown = available.slice(0, 20);
  return ` Available models: ${shown.join(', ')}${available.length > shown.length ? `, and ${available.length - shown.length} more (GET /v1/models)` : ''}.`;
}

export const errors = {
  badJson: (detail: string) =>
    new GatewayError(`We could not parse the JSON body of your request: ${detail}`, {
      status: 400,
      code: 'invalid_json',
    }),
  invalid: (message: string, param: string | null, code: ErrorCode = 'invalid_value') => new GatewayError(message, { status: 400, code, param }),
  /** `available`: the models this caller may use, named so a typo is a one-glance fix (as GET /v1/models lists them). */
  modelNotFound: (model: string, available?: readonly string[]) =>
    new GatewayError(`The model \`${model}\` does not exist or you do not have access to it.${availableText(available)}`, {
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
  /** The client went away (body cut short, connection closed before the answer): 499, nginx's code, never a 5xx. */
  clientClosed: (when: string) => new GatewayError(`The client closed the connection ${when}.`, { status: 499, code: 'client_closed_request' }),
  unsupportedMediaType: (got: string) =>
    new GatewayError(`Expected content-type application/json, got ${got || 'none'}.`, {
      status: 415,
      code: 'unsupported_media_type',
    }),
};
