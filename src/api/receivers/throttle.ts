/**
 * @module A log throttle: a listener that refuses entries logs the first refusal, then at most one
 * a period, so a sender replaying old lines cannot fill the server's log.
 */
export class Throttle {
  private last = -Infinity;

  constructor(private readonly periodMs: number) {}

  /** True at most once per period. */
  ready(): boolean {
    const now = Date.now();
    if (now - this.last < this.periodMs) return false;
    this.last = now;
    return true;
  }
}
