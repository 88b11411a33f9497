/** A front: the protocol a client speaks. Requests are translated onto chat completions; a Front turns answers back. */
import type { RequestContext } from '../core/request-context.js';
import type { SseOptions } from '../core/respond.js';
import type { JsonObject } from '../core/types.js';

export type FrontName = NonNullable<RequestContext['front']>;

export interface Front {
  readonly name: FrontName;
  /** A chat.completion body (after unmasking) -> the client's response. */
  json(body: JsonObject, ctx: RequestContext): Promise<Response>;
  /** chat.completion.chunk payloads -> the client's event stream (same pull/abort/onEnd contract as sseResponse). */
  stream(events: AsyncIterable<string>, ctx: RequestContext, opts: SseOptions): Response;
}
