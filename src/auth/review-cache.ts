/**
 * @module The cache in front of a review the cluster answers (TokenReview, SubjectAccessReview), as
 * kube's webhook authenticator and authorizer keep theirs: an answer is kept for a time that depends
 * on it (0: not kept), at most `maxEntries` of them, the oldest dropped first; while a review is in
 * flight, the same question waits for it rather than asking again.
 */
export class ReviewCache<V> {
  readonly #entries = new Map<string, { readonly value: V; readonly expires: number }>();
  readonly #inflight = new Map<string, Promise<V>>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
    /** A hit becomes the newest entry (least recently used dropped first), else insertion order. */
    private readonly touchOnHit: boolean,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The fresh answer to `key`, the one in flight, or `ask()`'s, kept for `ttlOf(answer)` ms. */
  get(key: string, ask: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      if (hit.expires > this.now()) {
        if (this.touchOnHit) {
          this.#entries.delete(key);
          this.#entries.set(key, hit);
        }
        return Promise.resolve(hit.value);
      }
      this.#entries.delete(key);
    }
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    const p = ask().then(
      (value) => {
        this.#inflight.delete(key);
        const ttl = ttlOf(value);
        if (ttl > 0) {
          while (this.#entries.size >= this.maxEntries) {
            const oldest = this.#entries.keys().next().value;
            if (oldest === undefined) break;
            this.#entries.delete(oldest);
          }
          this.#entries.set(key, { value, expires: this.now() + ttl });
        }
        return value;
      },
      (err: unknown) => {
        this.#inflight.delete(key);
        throw err;
      },
    );
    this.#inflight.set(key, p);
    return p;
  }
}
