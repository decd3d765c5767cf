/** A progress bar on stderr (a TTY gets one redrawn line; a log gets a line every 10%). */
export interface ProgressBar {
  update(done: number, total: number, note?: string): void;
  finish(): void;
}

export function progressBar(label: string, enabled: boolean): ProgressBar {
  const tty = process.stderr.isTTY === true;
  let lastDecile = -1;
  const started = Date.now();
  return {
    update(done, total, note = '') {
      if (!enabled) return;
      const frac = total > 0 ? done / total : 1;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (tty) {
        const width = 30, filled = Math.round(frac * width);
        const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
        process.stderr.write(`\r${label} [${bar}] ${done}/${total} ${secs}s ${note}`.padEnd(80));
      } else {
        const decile = Math.floor(frac * 10);
        if (decile !== lastDecile) { lastDecile = decile; process.stderr.write(`${label} ${done}/${total} (${Math.round(frac * 100)}%) ${secs}s ${note}\n`); }
      }
    },
    finish() { if (enabled && tty) process.stderr.write('\n'); },
  };
}
