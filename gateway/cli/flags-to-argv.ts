/** Parsed flag values back to `--name value` words, for commands whose implementation parses its own argv. */
export function toArgv(values: Record<string, string | boolean | undefined>, names: readonly string[]): string[] {
  return names.flatMap((n) => {
    const v = values[n];
    if (v === undefined || v === false) return [];
    return v === true ? [`--${n}`] : [`--${n}`, v];
  });
}
