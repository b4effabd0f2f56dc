/**
 * @module Go's `Regexp.Expand` (regexp/regexp.go `expand` and `extract`): the replacement templates
 * of LogQL's `label_replace` and of the template functions `regexReplaceAll`. `$$` is a `$`;
 * `$name` and `${name}` name a group, where a name is the longest run of letters, digits and `_`
 * (so `$1W` names the group "1W", as Go's documentation warns); a name of digits without a leading
 * zero is a group number; a group that does not exist, or did not take part, expands to "". A `$`
 * that starts no valid name is kept as text.
 */

/** The groups of one match: by number (0 = the whole match) and by name. */
export interface ExpandGroups {
  readonly numbered: readonly (string | undefined)[];
  readonly named?: Readonly<Record<string, string | undefined>> | undefined;
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** `template` with its `$` references replaced by the groups of one match. */
export function expandTemplate(template: string, groups: ExpandGroups): string {
  let out = '';
  let i = 0;
  for (;;) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) return out + template.slice(i);
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const ref = extract(template, i);
    if (!ref) {
      out += '$';
      continue;
    }
    i = ref.rest;
    out += (ref.num >= 0 ? groups.numbered[ref.num] : groups.named?.[ref.name]) ?? '';
  }
}

/** Go's `extract`: the name after a `$` at `start`, its number (-1 if not one) and where it ends. */
function extract(s: string, start: number): { name: string; num: number; rest: number } | undefined {
  let i = start;
  const brace = s[i] === '{';
  if (brace) i++;
  const nameStart = i;
  while (i < s.length) {
    const ch = String.fromCodePoint(s.codePointAt(i)!);
    if (!NAME_CHAR.test(ch)) break;
    i += ch.length;
  }
  if (i === nameStart) return undefined;
  const name = s.slice(nameStart, i);
  if (brace) {
    if (s[i] !== '}') return undefined;
    i++;
  }
  let num = 0;
  for (const ch of name) {
    if (ch < '0' || ch > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + (ch.charCodeAt(0) - 48);
  }
  if (name[0] === '0' && name.length > 1) num = -1;
  return { name, num, rest: i };
}
