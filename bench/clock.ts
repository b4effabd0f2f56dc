/**
 * @module The time of one generated record, in the spellings log lines use (RFC 3339 with ms, µs or ns,
 * nginx, klog, Java, Redis, epoch seconds and milliseconds).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Clock {
  /** Nanoseconds since the epoch. */
  ns = 0n;
  /** Milliseconds since the epoch. */
  ms = 0;
  /** Nanoseconds within the millisecond, 0..999999. */
  subNs = 0;
  /** `2026-03-01T10:12:03.123Z` */
  iso = '';

  set(ns: bigint): void {
    this.ns = ns;
    this.ms = Number(ns / 1_000_000n);
    this.subNs = Number(ns % 1_000_000n);
    this.iso = new Date(this.ms).toISOString();
  }

  /** `2026-03-01T10:12:03.123456789Z` */
  isoNs(): string {
    return `${this.iso.slice(0, 23)}${String(this.subNs).padStart(6, '0')}Z`;
  }

  /** `2026-03-01T10:12:03.123456Z` */
  isoUs(): string {
    return `${this.iso.slice(0, 23)}${String(Math.floor(this.subNs / 1000)).padStart(3, '0')}Z`;
  }

  /** `2026-03-01T10:12:03Z` */
  isoS(): string {
    return `${this.iso.slice(0, 19)}Z`;
  }

  /** Epoch seconds with microseconds, as zap writes them: `1772359923.123456`. */
  epochSeconds(): string {
    const us = this.ms * 1000 + Math.floor(this.subNs / 1000);
    const s = String(us);
    return `${s.slice(0, -6)}.${s.slice(-6)}`;
  }

  private month(): string {
    return MONTHS[Number(this.iso.slice(5, 7)) - 1]!;
  }

  /** nginx: `01/Mar/2026:10:12:03 +0000` */
  clf(): string {
    return `${this.iso.slice(8, 10)}/${this.month()}/${this.iso.slice(0, 4)}:${this.iso.slice(11, 19)} +0000`;
  }

  /** HAProxy: `01/Mar/2026:10:12:03.123` */
  haproxy(): string {
    return `${this.iso.slice(8, 10)}/${this.month()}/${this.iso.slice(0, 4)}:${this.iso.slice(11, 23)}`;
  }

  /** klog header time: `0301 10:12:03.123456` */
  klog(): string {
    const us = String(Math.floor(this.subNs / 1000)).padStart(3, '0');
    return `${this.iso.slice(5, 7)}${this.iso.slice(8, 10)} ${this.iso.slice(11, 23)}${us}`;
  }

  /** Spring Boot: `2026-03-01 10:12:03.123` */
  java(): string {
    return `${this.iso.slice(0, 10)} ${this.iso.slice(11, 23)}`;
  }

  /** Redis: `01 Mar 2026 10:12:03.123` */
  redis(): string {
    return `${this.iso.slice(8, 10)} ${this.month()} ${this.iso.slice(0, 4)} ${this.iso.slice(11, 23)}`;
  }
}

/** `2026-03-01T10:12:03.123456Z` for any instant. */
export function isoUsOf(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 23)}${String((ns / 1000n) % 1000n).padStart(3, '0')}Z`;
}
