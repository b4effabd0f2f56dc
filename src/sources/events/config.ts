/**
 * @module The events source's section of the agent configuration and its flags:
 *
 * ```yaml
 * events: { kubeconfig: /etc/kjournal/kubeconfig }   # or `events: {}` for the in-cluster config
 * ```
 *
 * Flags: `--events`, and `--kubeconfig` (shared with the pods source's labels).
 */
import { section, str } from '../config-values.js';

export interface EventsSection {
  /** Absent: the in-cluster configuration. */
  readonly kubeconfig?: string;
}

export interface EventsFlags {
  events?: boolean;
  kubeconfig?: string;
}

export function eventsFromFile(value: unknown): EventsSection {
  const s = section(value, 'events', ['kubeconfig']);
  const kubeconfig = str(s.kubeconfig, 'events.kubeconfig');
  return kubeconfig !== undefined ? { kubeconfig } : {};
}

/** The flags over the file's section (a flag wins). */
export function eventsWithFlags(s: EventsSection | undefined, flags: EventsFlags): EventsSection | undefined {
  let out = s;
  if (flags.events) out = { ...out };
  if (flags.kubeconfig !== undefined && out) out = { kubeconfig: flags.kubeconfig };
  return out;
}
