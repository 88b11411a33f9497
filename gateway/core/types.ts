/** Shared data shapes that cross the gateway's seams. */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type Endpoint = 'chat.completions' | 'completions' | 'embeddings';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type { Zone } from './zones.js';
