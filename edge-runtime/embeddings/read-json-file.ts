/** One JSON file of a model folder, read and validated; errors name the file and the field. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** `optional`: a missing file (ENOENT only) gives `undefined`. */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, optional: true): Promise<T | undefined>;
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>): Promise<T>;
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, optional = false): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // Only a missing file is "absent"; unreadable is an error.
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: cannot read (${err instanceof Error ? err.message : String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new Error(`${path}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
}
