/**
 * Bounded label values: a label only carries a name the operator configured (models, upstreams, error codes, ...);
 * anything a client made up becomes `other`. Without this every unknown model name a client sends would be a new,
 * permanent set of series (200 names made 200 sets; one 1 MB name grew /metrics by 18 MB).
 */

/** What any label value must look like even when configured: printable, no control characters, at most 128 chars. */
const VALID_LABEL = /^[^\p{Cc}\p{Cs}]{1,128}$/u;
export const OTHER = 'other';

export function isValidLabelValue(value: string): boolean {
  return VALID_LABEL.test(value);
}

/** One label's closed vocabulary: the configured names plus a few fixed words (`none`, `other`). */
export class BoundedLabel {
  private readonly allowed = new Set<string>();

  constructor(...names: ReadonlyArray<Iterable<string>>) {
    for (const list of names) for (const n of list) if (isValidLabelValue(n)) this.allowed.add(n);
  }

  /** The value itself when configured, otherwise `other`. */
  of(value: string | undefined): string {
    return value !== undefined && this.allowed.has(value) ? value : OTHER;
  }
}

/** HTTP statuses as three digits; anything else (never expected) is `other`. */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER;
}
