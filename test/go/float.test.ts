/**
 * src/go/float.ts against Go itself: each row is what strconv.ParseFloat(s, 64) returned in Go 1.19
 * (value, and the error's reason when there was one), printed by a small Go program.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goParseFloat } from '../../src/go/float.js';

const GO: [string, number, string][] = [
  ['0', 0, ''],
  ['-0', -0, ''],
  ['1', 1, ''],
  ['+1', 1, ''],
  ['1.5', 1.5, ''],
  ['-2.25', -2.25, ''],
  ['.5', 0.5, ''],
  ['5.', 5, ''],
  ['1e3', 1000, ''],
  ['1E-3', 0.001, ''],
  ['1e+3', 1000, ''],
  ['1e', 0, 'invalid syntax'],
  ['e1', 0, 'invalid syntax'],
  ['.e1', 0, 'invalid syntax'],
  ['1.e1', 10, ''],
  ['.', 0, 'invalid syntax'],
  ['', 0, 'invalid syntax'],
  ['+', 0, 'invalid syntax'],
  ['-', 0, 'invalid syntax'],
  ['1_000', 1000, ''],
  ['1_000.000_1', 1000.0001, ''],
  ['1__0', 0, 'invalid syntax'],
  ['_1', 0, 'invalid syntax'],
  ['1_', 0, 'invalid syntax'],
  ['1_.5', 0, 'invalid syntax'],
  ['1._5', 0, 'invalid syntax'],
  ['1e1_0', 1e10, ''],
  ['0x_1p3', 8, ''],
  ['0x1_p3', 0, 'invalid syntax'],
  ['0_1', 1, ''],
  ['0x1p3', 8, ''],
  ['0x1.8p3', 12, ''],
  ['0X1P-2', 0.25, ''],
  ['0x1A', 0, 'invalid syntax'],
  ['0x1', 0, 'invalid syntax'],
  ['0x1.8', 0, 'invalid syntax'],
  ['0x.8p1', 1, ''],
  ['0x.p1', 0, 'invalid syntax'],
  ['0xp1', 0, 'invalid syntax'],
  ['0x1p', 0, 'invalid syntax'],
  ['0x1p+', 0, 'invalid syntax'],
  ['0x1e3p0', 483, ''],
  ['0x1P1_0', 1024, ''],
  ['0x1p-1074', 5e-324, ''],
  ['0x1p-1075', 0, ''],
  ['0x1.8p-1075', 5e-324, ''],
  ['0x1.0000000000001p-1075', 5e-324, ''],
  ['0x1p-1076', 0, ''],
  ['0x3p-1076', 5e-324, ''],
  ['0x1p1023', 8.98846567431158e307, ''],
  ['0x1p1024', Number.POSITIVE_INFINITY, 'value out of range'],
  ['0x1.fffffffffffffp1023', 1.7976931348623157e308, ''],
  ['0x1.fffffffffffff8p1023', Number.POSITIVE_INFINITY, 'value out of range'],
  ['0x1.fffffffffffff7p1023', 1.7976931348623157e308, ''],
  ['0x1.00000000000008p0', 1, ''],
  ['0x1.00000000000018p0', 1.0000000000000004, ''],
  ['0x1.000000000000080000001p0', 1.0000000000000002, ''],
  ['0x10000000000000001p0', 1.8446744073709552e19, ''],
  ['0x1.0000000000000fffp-1022', 2.225073858507202e-308, ''],
  ['0x0.0000000000001p-1022', 5e-324, ''],
  ['0x0.00000000000008p-1022', 0, ''],
  ['0x0.00000000000018p-1022', 1e-323, ''],
  ['1e-400', 0, ''],
  ['-1e-400', -0, ''],
  ['1e400', Number.POSITIVE_INFINITY, 'value out of range'],
  ['-1e400', Number.NEGATIVE_INFINITY, 'value out of range'],
  ['4.9e-324', 5e-324, ''],
  ['2e-324', 0, ''],
  ['2.5e-324', 5e-324, ''],
  ['1.7976931348623157e308', 1.7976931348623157e308, ''],
  ['1.7976931348623159e308', Number.POSITIVE_INFINITY, 'value out of range'],
  ['inf', Number.POSITIVE_INFINITY, ''],
  ['+Inf', Number.POSITIVE_INFINITY, ''],
  ['-inf', Number.NEGATIVE_INFINITY, ''],
  ['infinity', Number.POSITIVE_INFINITY, ''],
  ['-Infinity', Number.NEGATIVE_INFINITY, ''],
  ['INFINITY', Number.POSITIVE_INFINITY, ''],
  ['infinit', 0, 'invalid syntax'],
  ['nan', Number.NaN, ''],
  ['NaN', Number.NaN, ''],
  ['+nan', 0, 'invalid syntax'],
  ['-nan', 0, 'invalid syntax'],
  ['nanx', 0, 'invalid syntax'],
  ['0x', 0, 'invalid syntax'],
  ['1.5e3m', 0, 'invalid syntax'],
  [' 1', 0, 'invalid syntax'],
  ['1 ', 0, 'invalid syntax'],
  ['0o17', 0, 'invalid syntax'],
  ['0b1', 0, 'invalid syntax'],
  ['017', 17, ''],
  ['09', 9, ''],
  ['+.5', 0.5, ''],
  ['-.5e-1', -0.05, ''],
  ['123456789012345678901234567890', 1.2345678901234568e29, ''],
  ['0.1', 0.1, ''],
  ['0.30000000000000004', 0.30000000000000004, ''],
];

test('goParseFloat answers as Go strconv.ParseFloat', () => {
  for (const [s, value, why] of GO) {
    const r = goParseFloat(s);
    assert.ok(Object.is(r.value, value), `${JSON.stringify(s)}: ${r.value} != ${value}`);
    if (why === '') assert.equal(r.ok, true, s);
    else
      assert.deepEqual(
        r,
        { ok: false, value, error: `strconv.ParseFloat: parsing ${JSON.stringify(s)}: ${why}` },
        s,
      );
  }
});

test('hexadecimal mantissas round to nearest even, subnormals included', () => {
  for (let k = 0; k < 2000; k++) {
    // An exact double, written in hexadecimal, reads back as itself.
    const v = (Math.random() - 0.5) * 2 ** Math.floor(Math.random() * 2000 - 1000);
    const [m, e] = hexOf(v);
    assert.ok(Object.is(goParseFloat(`${m}p${e}`).value, v), `${m}p${e} ${v}`);
  }
});

/** A double as a hexadecimal float: integer mantissa and binary exponent. */
function hexOf(v: number): [string, number] {
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  let a = Math.abs(v);
  let e = 0;
  while (a !== Math.floor(a)) {
    a *= 2;
    e--;
  }
  return [`${sign}0x${BigInt(a).toString(16)}`, e];
}
