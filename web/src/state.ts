/**
 * @module The page's state is its URL: view, query, time range and the view's own fields live in
 * the query string of `/ui/`, so a link shows the same thing to whoever opens it and a reload shows
 * it again. Changing the view pushes a history entry; editing within a view replaces it.
 */

export type View = 'explore' | 'tail' | 'pods' | 'events' | 'audit' | 'timeline';
export const VIEWS: readonly [View, string][] = [
  ['explore', 'Explore'],
  ['tail', 'Live tail'],
  ['pods', 'Pods'],
  ['events', 'Events'],
  ['audit', 'Audit'],
  ['timeline', 'Timeline'],
];

export interface UrlState {
  view: View;
  query: string;
  from: string;
  to: string;
  /** Field values of the Kubernetes views: namespace, pod, object (`pod/NAME`), audit filters. */
  ns: string;
  pod: string;
  obj: string;
  user: string;
  verb: string;
  resource: string;
  name: string;
  code: string;
  limit: string;
}

const DEFAULTS: UrlState = {
  view: 'explore',
  query: '',
  from: 'now-1h',
  to: 'now',
  ns: '',
  pod: '',
  obj: '',
  user: '',
  verb: '',
  resource: '',
  name: '',
  code: '',
  limit: '1000',
};

export function readState(search = location.search): UrlState {
  const p = new URLSearchParams(search);
  const s = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof UrlState)[]) {
    const v = p.get(key);
    if (v !== null) (s as Record<string, string>)[key] = v;
  }
  if (!VIEWS.some(([v]) => v === s.view)) s.view = 'explore';
  return s;
}

export function stateUrl(s: UrlState): string {
  const p = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS) as (keyof UrlState)[]) {
    if (s[key] !== DEFAULTS[key] || key === 'view') p.set(key, s[key]);
  }
  return `/ui/?${p}`;
}

export function writeState(s: UrlState, push: boolean): void {
  const url = stateUrl(s);
  if (url === `${location.pathname}${location.search}`) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}
