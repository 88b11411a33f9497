/** `switchyard keys create [--id ID] [--tenant T]`: prints a new virtual key once, and the config lines that admit it. */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sha256Hex } from '../auth/key-hash.js';

export async function keysCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'create') throw new Error('usage: switchyard keys create [--id ID] [--tenant TENANT] [--rpm N] [--tpm N]');
  const { values } = parseArgs({
    args: rest,
    options: { id: { type: 'string' }, tenant: { type: 'string', default: 'default' }, rpm: { type: 'string' }, tpm: { type: 'string' } },
    strict: true,
  });
  const key = `sk-sy-${randomBytes(32).toString('base64url')}`;
  const id = values.id ?? `key-${randomBytes(4).toString('hex')}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new Error('--id: letters, digits, _ . - only');
  const hash = await sha256Hex(key);
  const extra = [values.rpm ? `, rpm: ${Number(values.rpm)}` : '', values.tpm ? `, tpm: ${Number(values.tpm)}` : ''].join('');
  process.stdout.write(
    `New key (shown once; only its hash goes in the config):\n\n  ${key}\n\nAdd to the config file:\n\nkeys:\n  - { id: ${id}, tenant: ${values.tenant}, sha256: ${hash}${extra} }\n`,
  );
}
