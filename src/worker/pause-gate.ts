/**
 * Pause for a running request: the engine awaits `wait()` between optimisation steps; a `pause` message
 * closes the gate and a resume (or a cancel, so a paused run can still be stopped) opens it again.
 */
export class PauseGate {
  private waiting: (() => void)[] = [];
  private closed = false;

  get paused(): boolean { return this.closed; }

  set(paused: boolean): void {
    this.closed = paused;
    if (!paused) this.open();
  }

  /** Resolves at once while open; otherwise when the gate opens. */
  wait(): Promise<void> {
    if (!this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Opens the gate and lets every waiter go (resume, cancel, end of the request). */
  open(): void {
    this.closed = false;
    const w = this.waiting;
    this.waiting = [];
    for (const resolve of w) resolve();
  }
}
