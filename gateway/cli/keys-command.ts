/** `switchyard keys create`: prints a new virtual key once, and the config entry that admits it (validated here). */
import { randomBytes } from 'node:crypto';
import { keySchema } from '../auth/auth-config.js';
import { sha256Hex } from '../auth/key-hash.js';
import { choiceFlag, intFlag, listFlag, stringFlag, UsageError, type ParsedCommand } from './command-line.js';

export async function run({ values }: ParsedCommand): Promise<void> {
  const key = `sk-sy-${randomBytes(32).toString('base64url')}`;
  const entry = {
    id: stringFlag(values, 'id') ?? `key-${randomBytes(4).toString('hex')}`,
    tenant: stringFlag(values, 'tenant')!,
    sha256: await sha256Hex(key),
    role: choiceFlag(values, 'role', ['user', 'admin'] as const)!,
    models: listFlag(values, 'models'),
    tags: listFlag(values, 'tags'),
    rpm: intFlag(values, 'rpm', { min: 1 }),
    tpm: intFlag(values, 'tpm', { min: 1 }),
  };
  // The same schema the gateway loads keys with: what is printed is what it accepts.
  const checked = keySchema.safeParse(entry);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0] ?? 'id')}: ${issue.message}`);
  }
  // Flow-style YAML; list items and the tenant are JSON strings (valid YAML, safe for globs such as `gpt-4o*`).
  const fields = Object.entries(entry)
    .filter(([k, v]) => v !== undefined && !(k === 'role' && v === 'user') && !(Array.isArray(v) && v.length === 0))
    .map(
      ([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : k === 'tenant' ? JSON.stringify(v) : String(v)}`,
    );
  process.stdout.write(
    `New key (shown once; only its hash goes in the config):\n\n  ${key}\n\nAdd to the config file:\n\nkeys:\n  - { ${fields.join(', ')} }\n`,
  );
}
