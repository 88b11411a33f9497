/** A policy rule's `match` compiled once into a predicate: globs become regexes. */
import type { RouteInput } from '../core/decision.js';
import type { PolicyRule } from './policy-schema.js';

export const globRe = (g: string) =>
  new RegExp(
    `^${g
      .split('*')
      .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

export interface CompiledRule {
  rule: PolicyRule;
  test(input: RouteInput, tags: ReadonlySet<string>): boolean;
}

export function compileRule(rule: PolicyRule): CompiledRule {
  const m = rule.match;
  const checks: Array<(i: RouteInput, tags: ReadonlySet<string>) => boolean> = [];
  const any = (gs: string[] | undefined, pick: (i: RouteInput) => string) => {
    if (!gs) return;
    const res = gs.map(globRe);
    checks.push((i) => res.some((r) => r.test(pick(i))));
  };
  any(m.models, (i) => i.request.model);
  any(m.tenants, (i) => i.principal.tenant);
  any(m.keys, (i) => i.principal.keyId);
  const { tags, metadata, headers, max_bytes, min_bytes } = m;
  if (tags) {
    const wanted = tags.map((x) => x.toLowerCase()); // request tags arrive lower-cased
    checks.push((_i, t) => wanted.some((x) => t.has(x)));
  }
  if (metadata) checks.push((i) => Object.entries(metadata).every(([k, v]) => i.request.metadata?.[k] === v));
  if (headers) checks.push((i) => Object.entries(headers).every(([k, v]) => i.headers.get(k) === v));
  if (max_bytes !== undefined) checks.push((i) => i.request.bytes <= max_bytes);
  if (min_bytes !== undefined) checks.push((i) => i.request.bytes >= min_bytes);
  return { rule, test: (i, t) => checks.every((c) => c(i, t)) };
}
