/**
 * @module Byte sizes as configuration files write them: `256MiB`, `1MB`, `4096` (bytes).
 */

const SIZE_SCALE: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** The size in bytes (0 included), or undefined when `value` is not a size. */
export function sizeOrZero(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = typeof value === 'string' ? /^(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(value.trim()) : null;
  return m ? Number(m[1]) * SIZE_SCALE[(m[2] ?? 'b').toLowerCase()]! : undefined;
}

/** The size in bytes, or undefined when `value` is not a positive size. */
export function sizeValue(value: unknown): number | undefined {
  const n = sizeOrZero(value);
  return n !== undefined && n > 0 ? n : undefined;
}
