// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go's replacement templates are written ${name}.
/**
 * src/go/regexp-expand.ts against the examples of Go's regexp documentation (ExampleRegexp_Expand,
 * ExampleRegexp_ReplaceAllString) and the rules of its `extract`: names are the longest run of
 * letters, digits and `_`; a leading zero makes a name, not a number; `$` without a name is text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import RE2 from 're2';
import { type ExpandGroups, expandTemplate } from '../../src/go/regexp-expand.js';

/** Go's ReplaceAllString with RE2's matches: every match replaced by the expanded template. */
function replaceAll(pattern: string, text: string, template: string): string {
  const re = new RE2(pattern, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out += text.slice(last, m.index) + expandTemplate(template, { numbered: m, named: m.groups });
    last = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  return out + text.slice(last);
}

test('ExampleRegexp_ReplaceAllString: $1W names the group "1W", ${1}W is group 1 then W', () => {
  assert.equal(replaceAll('a(x*)b', '-ab-axxb-', 'T'), '-T-T-');
  assert.equal(replaceAll('a(x*)b', '-ab-axxb-', '$1'), '--xx-');
  assert.equal(replaceAll('a(x*)b', '-ab-axxb-', '$1W'), '---');
  assert.equal(replaceAll('a(x*)b', '-ab-axxb-', '${1}W'), '-W-xxW-');
});

test('ExampleRegexp_Expand: named groups', () => {
  const text = '\n\t# comment line\n\toption1: value1\n\toption2: value2\n';
  const re = new RE2('(?m)(?P<key>\\w+):\\s+(?P<value>\\w+)$', 'g');
  let out = '';
  for (let m = re.exec(text); m; m = re.exec(text))
    out += expandTemplate('$key=$value\n', { numbered: m, named: m.groups });
  assert.equal(out, 'option1=value1\noption2=value2\n');
});

test("extract's rules: $$, a lone $, an unclosed brace, leading zeros, missing groups", () => {
  const g: ExpandGroups = { numbered: ['whole', 'one', undefined], named: { n: 'N', é: 'E' } };
  const rows: [string, string][] = [
    ['$$1', '$1'],
    ['a$', 'a$'],
    ['$-', '$-'],
    ['${1', '${1'],
    ['${}', '${}'],
    ['$01', ''], // a name "01", not group 1
    ['${0}', 'whole'],
    ['$2', ''], // the group did not take part
    ['$9', ''], // no such group
    ['$n.$é', 'N.E'], // Unicode letters are name characters, as Go's unicode.IsLetter
    ['${n}x$nx', 'Nx'], // "$nx" names the group "nx", which does not exist
    ['$100000000', ''], // beyond Go's 1e8 bound: a name, not a number
  ];
  for (const [template, want] of rows) assert.equal(expandTemplate(template, g), want, template);
});
