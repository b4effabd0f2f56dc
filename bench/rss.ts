/**
 * @module Memory of the server under test: VmRSS sampled from /proc/<pid>/status every 100 ms, and
 * VmHWM (the kernel's own peak) read on demand.
 */
import { readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in kB, or undefined when the process is gone. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peakKb = 0;
  private samples = 0;
  private phase = 'start';
  /** Peak RSS seen in each phase, kB. */
  readonly byPhase: Record<string, number> = {};

  constructor(private readonly pid: number) {}

  start(intervalMs = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Names the phase that following samples belong to. */
  mark(phase: string): void {
    this.sample();
    this.phase = phase;
  }

  private sample(): void {
    const kb = procStatusKb(this.pid, 'VmRSS');
    if (kb === undefined) return;
    this.samples++;
    if (kb > this.peakKb) this.peakKb = kb;
    if (kb > (this.byPhase[this.phase] ?? 0)) this.byPhase[this.phase] = kb;
  }

  /** Stops sampling; returns the sampled peak and VmHWM (read now, while the process lives). */
  stop(): { peakRssKb: number; hwmKb: number | undefined; samples: number } {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    return { peakRssKb: this.peakKb, hwmKb: procStatusKb(this.pid, 'VmHWM'), samples: this.samples };
  }
}
