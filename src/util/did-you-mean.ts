/**
 * @module "Did you mean" for a misspelt name (`flow` → `flows`): the known name nearest by edit
 * distance (Levenshtein, as cobra's command suggestions and Go's flag packages use it), when it is
 * near enough to be a typo: at most a third of the name's length, and at least one edit allowed.
 */

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name nearest to `name`, or undefined when none is near enough. */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    // Case alone is one edit, whatever the length (`maxlinesize` → `maxLineSize`).
    const d = k.toLowerCase() === lower ? 0.5 : distance(lower, k.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && k < best)) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
