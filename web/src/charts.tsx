/**
 * @module The charts, drawn by uPlot (a canvas time-series library of ~50 KB): the volume histogram
 * above the lines, stacked by level, on which a drag selects a narrower range; and the metric
 * query's chart with a legend per series. uPlot has no stacking of its own: each level's bars are
 * drawn at the sum of its own and the levels below, the higher sums first (uPlot's stacking demo).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export const LEVEL_ORDER = [
  'critical',
  'fatal',
  'error',
  'warn',
  'warning',
  'info',
  'debug',
  'trace',
  'unknown',
];
const LEVEL_COLOURS: Record<string, string> = {
  critical: '#b3261e',
  fatal: '#b3261e',
  error: '#d93a2b',
  warn: '#d98e04',
  warning: '#d98e04',
  info: '#2e8b57',
  debug: '#3b74c4',
  trace: '#7d5ba6',
  unknown: '#8a8f98',
};

export function levelColour(level: string): string {
  return LEVEL_COLOURS[level.toLowerCase()] ?? LEVEL_COLOURS.unknown!;
}

/** A colour per series or stream, from a hash of its labels (fixed lightness: readable on both themes). */
export function hashColour(key: string): string {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return `hsl(${Math.abs(h) % 360} 60% 48%)`;
}

/** A theme colour (style.css): uPlot draws on a canvas, which cannot read CSS variables. */
function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function axes(ySize: number): uPlot.Axis[] {
  const stroke = themeColour('--fg-muted', '#555d69');
  const grid = { stroke: themeColour('--grid', 'rgba(128,128,128,0.2)'), width: 1 };
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, size: ySize },
  ];
}

function useWidth(ref: { current: HTMLElement | null }, onWidth: (w: number) => void): void {
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => onWidth(Math.max(200, el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref.current]);
}

export interface LevelSeries {
  level: string;
  counts: number[];
}

interface HistogramProps {
  /** Bucket times, seconds. */
  xs: number[];
  series: LevelSeries[];
  step: number;
  onSelect(startMs: number, endMs: number): void;
}

export function VolumeHistogram({ xs, series, step, onSelect }: HistogramProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const select = useRef(onSelect);
  select.current = onSelect;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const sorted = [...series].sort((a, b) => rank(a.level) - rank(b.level));
    // Cumulative sums, the lowest level first; drawn in reverse so that each shows its own share.
    const cum: number[][] = [];
    let acc = xs.map(() => 0);
    for (const s of sorted) {
      acc = acc.map((v, i) => v + (s.counts[i] ?? 0));
      cum.push(acc);
    }
    const order = sorted.map((_, i) => i).reverse();
    const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 1 });
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 140,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: axes(50),
      series: [
        {},
        ...order.map((i) => ({
          label: sorted[i]!.level,
          fill: levelColour(sorted[i]!.level),
          stroke: levelColour(sorted[i]!.level),
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
            idx === null ? '' : String(sorted[i]!.counts[idx] ?? 0),
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            select.current(Math.floor(a * 1000), Math.ceil(b * 1000));
          },
        ],
      },
    };
    // Buckets are labelled by their end (Loki's step); a bar covers [t - step, t].
    const data = [xs.map((x) => x), ...order.map((i) => cum[i]!)] as uPlot.AlignedData;
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [xs, series, step]);
  useWidth(box, (w) => plot.current?.setSize({ width: w, height: 140 }));
  const total = series.reduce((n, s) => n + s.counts.reduce((a, b) => a + b, 0), 0);
  const nonzero = xs.filter((_, i) => series.some((s) => (s.counts[i] ?? 0) > 0)).length;
  return (
    <div
      class="histogram"
      ref={box}
      data-testid="histogram"
      data-buckets={String(nonzero)}
      data-total={String(total)}
      title="Drag to select a time range"
    />
  );
}

function rank(level: string): number {
  const i = LEVEL_ORDER.indexOf(level.toLowerCase());
  return i < 0 ? LEVEL_ORDER.length : i;
}

interface MetricProps {
  xs: number[];
  series: { label: string; values: (number | null)[] }[];
  onSelect(startMs: number, endMs: number): void;
}

export function MetricChart({ xs, series, onSelect }: MetricProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const select = useRef(onSelect);
  select.current = onSelect;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 300,
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true } },
      axes: axes(60),
      series: [
        {},
        ...series.map((s) => ({ label: s.label, stroke: hashColour(s.label), width: 1.5, spanGaps: false })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            select.current(Math.floor(a * 1000), Math.ceil(b * 1000));
          },
        ],
      },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [xs, series]);
  useWidth(box, (w) => plot.current?.setSize({ width: w, height: 300 }));
  return (
    <div class="metric-chart" ref={box} data-testid="metric-chart" data-series={String(series.length)} />
  );
}
