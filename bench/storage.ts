/**
 * @module The storage phase: the server's own `kjournal_store_disk_bytes` gauge (waited on until it
 * settles), the bytes of the files under its data directory, and `zstd -3` of the raw NDJSON file.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface DirSize {
  /** Sum of file sizes. */
  readonly bytes: number;
  /** Sum of allocated blocks (what `du` shows). */
  readonly allocatedBytes: number;
  readonly files: number;
  /** Bytes by first path component under the directory (`wal`, `parts`, ...). */
  readonly byTop: Record<string, number>;
}

export function dirSize(dir: string): DirSize {
  let bytes = 0;
  let allocatedBytes = 0;
  let files = 0;
  const byTop: Record<string, number> = {};
  const walk = (d: string, top?: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(p);
      } catch {
        continue; // removed while we walked (compaction)
      }
      if (st.isDirectory()) walk(p, top ?? name);
      else if (st.isFile()) {
        files++;
        bytes += st.size;
        allocatedBytes += st.blocks * 512;
        byTop[top ?? name] = (byTop[top ?? name] ?? 0) + st.size;
      }
    }
  };
  walk(dir);
  return { bytes, allocatedBytes, files, byTop };
}

/** The value of a gauge in Prometheus text; the sum when it has several series; undefined if absent. */
export function gaugeValue(metricsText: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(
      rest
        .replace(/^\{[^}]*\}/, '')
        .trim()
        .split(/\s+/)[0],
    );
    if (!Number.isNaN(value)) total = (total ?? 0) + value;
  }
  return total;
}

export interface Settled {
  readonly metricBytes: number | undefined;
  readonly waitedMs: number;
  readonly settled: boolean;
}

/**
 * Polls `/metrics` and the data directory every second until nothing is pending conversion and both
 * the gauge and the directory's size are unchanged for `stableFor` polls in a row (or `maxMs` passes).
 */
export async function waitSettled(
  baseUrl: string,
  dataDir: string,
  stableFor = 3,
  maxMs = 180_000,
): Promise<Settled> {
  const t0 = performance.now();
  let last = '';
  let metric: number | undefined;
  let same = 0;
  while (performance.now() - t0 < maxMs) {
    const res = await fetch(`${baseUrl}/metrics`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 300)}`);
    metric = gaugeValue(text, 'kjournal_store_disk_bytes');
    // Settled means the write-ahead log is converted, too, not just that nothing moved for a while.
    const pending = gaugeValue(text, 'kjournal_store_pending_bytes') ?? 0;
    const now = `${metric} ${dirSize(dataDir).bytes}`;
    same = now === last && pending === 0 ? same + 1 : 0;
    last = now;
    if (same >= stableFor) return { metricBytes: metric, waitedMs: performance.now() - t0, settled: true };
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { metricBytes: metric, waitedMs: performance.now() - t0, settled: false };
}

/** `zstd -3` of `file` into `outFile`; returns the compressed size and how long it took. */
export function zstd3(file: string, outFile: string): { bytes: number; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync('zstd', ['-3', '-q', '-f', '-o', outFile, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`zstd could not run: ${r.error.message} (install the zstd package)`);
  if (r.status !== 0) throw new Error(`zstd failed (${r.status}): ${r.stderr}`);
  return { bytes: statSync(outFile).size, seconds: (performance.now() - t0) / 1000 };
}
