/**
 * HTTP header names (RFC 9110 tokens) in config and policy files. `Headers.get()` throws on anything else, which would
 * turn a typo in a file into a 500 on every request instead of an error at load naming the line and field.
 */
import { z } from 'zod';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MESSAGE = "not an HTTP header name (letters, digits and !#$%&'*+.^_`|~- only)";

export const headerNameSchema = z.string().regex(TOKEN, MESSAGE);

/** A map keyed by header names; a bad name is reported at its own key with the same message. */
export const headerMapSchema = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  for (const name of Object.keys(headers)) if (!TOKEN.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: MESSAGE });
});
