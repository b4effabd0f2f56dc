/**
 * @module The time range picker: Grafana's relative ranges (`now-1h` to `now`) or an absolute range
 * in the viewer's zone (datetime-local inputs).
 */
import { useState } from 'preact/hooks';
import { describeTime, type Range, RELATIVE_RANGES, resolveTime } from './time.ts';

const pad = (n: number) => String(n).padStart(2, '0');
function localInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function TimePicker({ range, onChange }: { range: Range; onChange(r: Range): void }) {
  const [absolute, setAbsolute] = useState(false);
  const relative = range.to === 'now' && RELATIVE_RANGES.some(([f]) => f === range.from);
  const start = resolveTime(range.from) ?? Date.now() - 3_600_000;
  const end = resolveTime(range.to) ?? Date.now();
  return (
    <div class="time-picker">
      <select
        aria-label="Time range"
        data-testid="range"
        value={relative && !absolute ? range.from : 'absolute'}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          if (v === 'absolute') setAbsolute(true);
          else {
            setAbsolute(false);
            onChange({ from: v, to: 'now' });
          }
        }}
      >
        {RELATIVE_RANGES.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
        <option value="absolute">
          {relative ? 'Absolute…' : `${describeTime(range.from)} → ${describeTime(range.to)}`}
        </option>
      </select>
      {(absolute || !relative) && (
        <span class="absolute">
          <input
            type="datetime-local"
            step="1"
            aria-label="From"
            value={localInput(start)}
            onChange={(e) => {
              const ms = Date.parse((e.currentTarget as HTMLInputElement).value);
              if (!Number.isNaN(ms)) onChange({ from: String(ms), to: String(end) });
            }}
          />
          <span aria-hidden="true">→</span>
          <input
            type="datetime-local"
            step="1"
            aria-label="To"
            value={localInput(end)}
            onChange={(e) => {
              const ms = Date.parse((e.currentTarget as HTMLInputElement).value);
              if (!Number.isNaN(ms)) onChange({ from: String(start), to: String(ms) });
            }}
          />
        </span>
      )}
    </div>
  );
}
