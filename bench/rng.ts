/**
 * @module A small seeded PRNG (sfc32, seeded through splitmix32) with the helpers the data set
 * generator needs. Same seed, same sequence, on every machine: the bench data set is reproducible.
 */

const HEX = '0123456789abcdef';

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Index in [0, n) skewed towards 0 (a few hot items, a long tail). */
  skewed(n: number, power = 3): number {
    return Math.floor(n * this.float() ** power);
  }

  /** `n` random lowercase hex digits. */
  hex(n: number): string {
    let out = '';
    while (out.length < n) {
      let x = this.u32();
      for (let i = 0; i < 8 && out.length < n; i++) {
        out += HEX[x & 15];
        x >>>= 4;
      }
    }
    return out;
  }

  /** `n` characters drawn from `alphabet`. */
  chars(alphabet: string, n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** Log-normal with the given median; `sigma` is the spread of the underlying normal. */
  lognormal(median: number, sigma: number): number {
    const u1 = this.float() || 1e-12;
    const u2 = this.float();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * z);
  }

  /** A random UUID v4 string. */
  uuid(): string {
    const h = this.hex(32);
    const v = HEX[8 + this.int(4)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${v}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** A public-looking IPv4 address. */
  publicIp(): string {
    return `${this.range(11, 223)}.${this.int(256)}.${this.int(256)}.${this.range(1, 254)}`;
  }
}
