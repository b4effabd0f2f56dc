/**
 * @module A log throttle: a listener that refuses entries logs the first refusal of each kind,
 * then at most one of that kind a period, so a sender replaying old lines cannot fill the
 * server's log (and one kind of refusal does not hide another).
 */
export class Throttle {
  private readonly last = new Map<string, number>();

  constructor(private readonly periodMs: number) {}

  /** True at most once per period for each `kind`. */
  ready(kind = ''): boolean {
    const now = Date.now();
    if (now - (this.last.get(kind) ?? -Infinity) < this.periodMs) return false;
    if (this.last.size > 1000) this.last.clear();
    this.last.set(kind, now);
    return true;
  }
}
