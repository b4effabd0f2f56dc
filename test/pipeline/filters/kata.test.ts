import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kataFilter } from '../../../src/pipeline/filters/kata.js';
import { parserFilter } from '../../../src/pipeline/filters/parser.js';
import { build, KATA_SEED_MESSAGE, kept, rec, throwsConfig } from './helpers.js';

const kata = (options: unknown = {}) => build(kataFilter, 'kata', options);

const LOGFMT = KATA_SEED_MESSAGE;

// A kata-runtime line with --log-format=json, from the `kill` command the seed shows.
const JSON_LINE = JSON.stringify({
  arch: 'amd64',
  command: 'kill',
  level: 'info',
  msg: 'endpoint details',
  name: 'kata-runtime',
  pid: 20311,
  source: 'virtcontainers',
  subsystem: 'network',
  time: '2020-02-21T10:40:01.000000001Z',
  EndpointProperties: {
    Iface: {
      Index: 4,
      MTU: 1460,
      Name: 'eth0',
      Namespace: null,
      Statistics: { RxPackets: 1, TxPackets: 5, RxBytes: 42 },
    },
  },
});

test('a Kata logfmt body gives kata_ attributes; the body, labels and time stay', () => {
  const r = rec({
    labels: { syslog_identifier: 'kata-runtime' },
    attributes: { priority: '6' },
    body: LOGFMT,
  });
  const out = kept(kata(), r);
  assert.equal(out.body, LOGFMT);
  assert.equal(out.timestamp, r.timestamp);
  assert.deepEqual(out.labels, r.labels);
  assert.deepEqual(out.attributes, {
    priority: '6',
    kata_time: '2020-02-21T10:31:27.810781647Z',
    kata_level: 'info',
    kata_msg: 'release sandbox',
    kata_arch: 'amd64',
    kata_command: 'state',
    kata_container: '7cdd31660d8705facdadeb8598d2c0bd008e8142c54e3b3069abd392c8d58997',
    kata_name: 'kata-runtime',
    kata_pid: '14314',
    kata_sandbox: '1c3e77cad66aa2b6d8cc846f818370f79cb0104c0b840f67d0f502fd6562b68c',
    kata_source: 'virtcontainers',
    kata_subsystem: 'sandbox',
  });
});

test('a Kata JSON line (--log-format=json) is flattened under kata_', () => {
  const out = kept(kata(), rec({ body: JSON_LINE }));
  assert.equal(out.attributes.kata_command, 'kill');
  assert.equal(out.attributes.kata_pid, '20311');
  assert.equal(out.attributes.kata_EndpointProperties_Iface_Name, 'eth0');
  assert.equal(out.attributes.kata_EndpointProperties_Iface_Statistics_TxPackets, '5');
  assert.equal(out.body, JSON_LINE);
});

test('key reads another field (the journal MESSAGE kept as an attribute)', () => {
  const out = kept(kata({ key: 'MESSAGE' }), rec({ attributes: { MESSAGE: LOGFMT }, body: 'other' }));
  assert.equal(out.attributes.kata_subsystem, 'sandbox');
  assert.equal(out.body, 'other');
});

test('the kata filter and the seed Fluentd parser section agree on the kata_ fields', () => {
  const viaParser = kept(
    build(parserFilter, 'parser', { format: 'logfmt', reserveData: true, injectKeyPrefix: 'kata_' }),
    rec({ body: LOGFMT }),
  );
  assert.deepEqual(kept(kata(), rec({ body: LOGFMT })).attributes, viaParser.attributes);
});

test('a line that is not a Kata message, or a missing field, is kept with __error__', () => {
  const corrupt = 'qemu-system-x86_64: -device virtio-9p-pci: overlapping';
  const out = kept(kata(), rec({ body: corrupt, attributes: { a: 'b' } }));
  assert.equal(out.body, corrupt);
  assert.equal(out.attributes.a, 'b');
  assert.equal(out.attributes.__error__, 'KataParserErr');
  assert.ok(out.attributes.__error_details__);
  const missing = kept(kata({ key: 'MESSAGE' }), rec({ body: LOGFMT }));
  assert.equal(missing.attributes.__error__, 'KataParserErr');
  assert.match(missing.attributes.__error_details__ ?? '', /MESSAGE/);
});

test('bad options are ConfigErrors naming the field', () => {
  throwsConfig(() => kata({ key: '' }), 'kata', ['key'], /field name/);
  throwsConfig(() => kata({ prefix: 'x_' }), 'kata', ['prefix'], /unknown/);
  throwsConfig(() => kata([]), 'kata', [], /must be a mapping/);
});
