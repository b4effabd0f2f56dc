/**
 * @module The gauges of the data volume's free space and of paused writes (journal/disk-full.ts).
 */
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { DiskSpaceWatch } from '../util/disk-space.js';

/** kjournal_disk_free_bytes, kjournal_disk_min_free_bytes and kjournal_disk_writes_paused. */
export function registerDiskMetrics(registry: Registry, disk: DiskSpaceWatch): void {
  const registers = [registry];
  new Gauge({
    name: 'kjournal_disk_free_bytes',
    help: 'Free bytes on the data directory’s volume (sampled every second).',
    registers,
    collect() {
      this.set(disk.free);
    },
  });
  new Gauge({
    name: 'kjournal_disk_min_free_bytes',
    help: 'The --min-free-disk watermark in bytes: under it, writes answer 507.',
    registers,
    collect() {
      this.set(disk.threshold);
    },
  });
  new Gauge({
    name: 'kjournal_disk_writes_paused',
    help: '1 while writes answer 507 for lack of disk space (under the watermark, or after ENOSPC).',
    registers,
    collect() {
      this.set(disk.low ? 1 : 0);
    },
  });
}
