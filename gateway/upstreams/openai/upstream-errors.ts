/** Maps what goes wrong talking to an upstream into GatewayErrors that say which upstream and why. */
import { GatewayError } from '../../core/errors.js';

/** Parses Retry-After (delta-seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function upstreamMessage(bodyText: string): string {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const e = (parsed as { error: unknown }).error;
      if (typeof e === 'string') return e;
      if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return bodyText.slice(0, 200).trim() || '(empty body)';
}

/** An upstream answered with a non-2xx status. */
export function upstreamStatusError(upstream: string, status: number, bodyText: string, retryAfter: string | undefined): GatewayError {
  const detail = upstreamMessage(bodyText);
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429) {
    return new GatewayError(`Upstream '${upstream}' is rate limiting: ${detail}`, {
      status: 429,
      code: 'upstream_rate_limited',
      upstream,
      retryable: true,
      retryAfterMs,
      headers: retryAfterMs !== undefined ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } : {},
    });
  }
  if (status === 401 || status === 403) {
    // The client's request is fine; the gateway's own credentials for this upstream are not.
    return new GatewayError(`Upstream '${upstream}' rejected the gateway's credentials (${status}).`, {
      status: 502,
      code: 'upstream_auth_failed',
      upstream,
    });
  }
  if (status >= 400 && status < 500 && status !== 408) {
    // The upstream judged the request itself invalid: the client needs to see why.
    return new GatewayError(`Upstream '${upstream}' rejected the request: ${detail}`, {
      status: status === 404 ? 404 : 400,
      code: status === 404 ? 'model_not_found' : 'upstream_bad_request',
      upstream,
    });
  }
  return new GatewayError(`Upstream '${upstream}' failed with status ${status}: ${detail}`, {
    status: status === 503 ? 503 : status === 504 || status === 408 ? 504 : 502,
    code: 'upstream_error',
    upstream,
    retryable: true,
    retryAfterMs,
  });
}

/** A transport-level failure (connect refused, timeouts, reset). */
export function upstreamTransportError(upstream: string, err: unknown, phase: 'connect' | 'response' | 'stream'): GatewayError {
  const code = (err as { code?: unknown })?.code;
  const c = typeof code === 'string' ? code : '';
  if (c === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError(`Upstream '${upstream}' did not accept a connection in time.`, {
      status: 504,
      code: 'upstream_connect_timeout',
      upstream,
      retryable: true,
      cause: err,
    });
  }
  if (c === 'UND_ERR_HEADERS_TIMEOUT') {
    return new GatewayError(`Upstream '${upstream}' sent no first byte within the first-byte timeout.`, {
      status: 504,
      code: 'upstream_first_byte_timeout',
      upstream,
      retryable: true,
      cause: err,
    });
  }
  if (c === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError(`Upstream '${upstream}' went idle mid-response beyond the idle timeout.`, {
      status: 504,
      code: 'upstream_idle_timeout',
      upstream,
      retryable: phase !== 'stream',
      cause: err,
    });
  }
  if (c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'EHOSTUNREACH' || c === 'ECONNRESET' || c === 'UND_ERR_SOCKET' || c === 'EPIPE') {
    const why = c === 'ECONNREFUSED' ? 'connection refused' : c === 'ENOTFOUND' ? 'host not found' : 'connection lost';
    return new GatewayError(`Upstream '${upstream}' is unreachable: ${why}${phase === 'stream' ? ' mid-stream' : ''}.`, {
      status: phase === 'stream' ? 502 : 503,
      code: 'upstream_unavailable',
      upstream,
      retryable: phase !== 'stream',
      cause: err,
    });
  }
  return new GatewayError(`Upstream '${upstream}' failed: ${c || (err instanceof Error ? err.name : 'unknown error')}.`, {
    status: 502,
    code: 'upstream_error',
    upstream,
    retryable: phase === 'connect',
    cause: err,
  });
}

export function deadlineError(upstream: string): GatewayError {
  return new GatewayError(`Upstream '${upstream}' did not finish within the request's total timeout.`, {
    status: 504,
    code: 'upstream_timeout',
    upstream,
    retryable: false,
  });
}
