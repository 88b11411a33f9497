/** Hot reload for the policy file (Node): polls the file's mtime and size, reloads on change, logs rejections. */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../core/logger.js';
import type { PolicyRouter } from './policy-router.js';

export function watchPolicy(path: string, router: PolicyRouter, logger: Logger, intervalMs = 500): () => void {
  let last = '';
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const s = await stat(path);
      const sig = `${s.mtimeMs}:${s.size}`;
      if (last && sig !== last) {
        const r = await router.reload(await readFile(path, 'utf8'));
        if (r.ok) logger.info({ file: path, version: router.current.version }, 'policy reloaded');
        else logger.error({ file: path, error: r.error }, 'policy edit rejected: the last good version keeps serving');
      }
      last = sig;
    } catch (err) {
      logger.warn(
        { file: path, err: err instanceof Error ? err.message : String(err) },
        'policy file unreadable: the last good version keeps serving',
      );
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
