/** Progress for long steps: a redrawn bar on a terminal, plain lines otherwise (logs and CI stay readable). */

export interface Progress {
  /** Starts a step of `total` units. */
  start(step: string, total: number): void;
  /** Advances the current step by `n` units. */
  tick(n?: number): void;
  /** Ends the current step with a summary. */
  done(summary?: string): void;
  /** A free line (notes, warnings). */
  note(message: string): void;
}

export const silentProgress: Progress = { start() {}, tick() {}, done() {}, note() {} };

export function streamProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  let step = '';
  let total = 0;
  let count = 0;
  let started = 0;
  let lastQuarter = 0;
  const draw = () => {
    const width = 30;
    const frac = total > 0 ? Math.min(1, count / total) : 1;
    const filled = Math.round(frac * width);
    stream.write(`\r${step} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total}`);
  };
  return {
    start(s, t) {
      step = s;
      total = t;
      count = 0;
      lastQuarter = 0;
      started = performance.now();
      if (tty) draw();
      else stream.write(`${step}: started (${total})\n`);
    },
    tick(n = 1) {
      count += n;
      if (tty) draw();
      else {
        // Plain output: a line at each quarter, not one per tensor.
        const quarter = total > 0 ? Math.floor((count / total) * 4) : 4;
        if (quarter > lastQuarter && quarter < 4) stream.write(`${step}: ${count}/${total}\n`);
        lastQuarter = quarter;
      }
    },
    done(summary) {
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      if (tty) stream.write('\n');
      stream.write(`${step}: done in ${secs} s${summary ? ` (${summary})` : ''}\n`);
    },
    note(message) {
      stream.write(`${message}\n`);
    },
  };
}
