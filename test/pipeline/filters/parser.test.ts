import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parserFilter } from '../../../src/pipeline/filters/parser.js';
import { build, Clock, KATA_SEED_MESSAGE, kept, rec, T0, throwsConfig } from './helpers.js';

const parser = (options: unknown, clock?: Clock) => build(parserFilter, 'parser', options, clock);

// Fluentd's filter_parser documentation examples, with its record mapped to ours: `log` is the body.
const APACHE =
  '/^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \\[(?<time>[^\\]]*)\\] "(?<method>\\S+)(?: +(?<path>[^ ]*) +\\S*)?" (?<code>[^ ]*) (?<size>[^ ]*)$/';

test('regexp: the documentation example parses the log into its named groups', () => {
  const f = parser({ key: 'log', format: 'regexp', expression: APACHE });
  const out = kept(f, rec({ body: '192.168.0.1 - - [05/Feb/2018:12:00:00 +0900] "GET / HTTP/1.1" 200 777' }));
  assert.deepEqual(out.attributes, {
    host: '192.168.0.1',
    user: '-',
    time: '05/Feb/2018:12:00:00 +0900',
    method: 'GET',
    path: '/',
    code: '200',
    size: '777',
  });
  assert.equal(out.body, '', 'without reserveData the record is only the parsed values');
  assert.deepEqual(out.labels, { kind: 'containerlog', class: 'application' }, 'labels stay');
});

test('regexp: a group that takes no part is left out; (?P<name>) works too', () => {
  const f = parser({ format: 'regexp', expression: '(?P<a>x)(?<b>y)?', reserveData: true });
  const out = kept(f, rec({ body: 'x' }));
  assert.deepEqual(out.attributes, { a: 'x' });
  assert.equal(out.body, 'x');
});

const DOC = { attributes: { key: 'value' }, body: '{"user":1,"num":2}' };

test('reserveData keeps the original fields and adds the parsed ones', () => {
  const out = kept(parser({ key: 'log', format: 'json', reserveData: true }), rec(DOC));
  assert.deepEqual(out.attributes, { key: 'value', user: '1', num: '2' });
  assert.equal(out.body, '{"user":1,"num":2}');
});

test('without reserveData the record is only the parsed values', () => {
  const out = kept(parser({ key: 'log', format: 'json' }), rec(DOC));
  assert.deepEqual(out.attributes, { user: '1', num: '2' });
  assert.equal(out.body, '');
  assert.equal(out.timestamp, T0, 'no time in the values: the record time stays');
});

test('removeKeyNameField drops the parsed field when parsing succeeds', () => {
  const f = parser({ key: 'log', format: 'json', reserveData: true, removeKeyNameField: true });
  const out = kept(f, rec(DOC));
  assert.deepEqual(out.attributes, { key: 'value', user: '1', num: '2' });
  assert.equal(out.body, '');
  const bad = kept(f, rec({ ...DOC, body: 'not json' }));
  assert.equal(bad.body, 'not json', 'nothing is removed when parsing fails');
});

test('removeKeyNameField on an attribute removes that attribute', () => {
  const f = parser({ key: 'payload', format: 'json', reserveData: true, removeKeyNameField: true });
  const out = kept(f, rec({ attributes: { payload: '{"a":"b"}' }, body: 'line' }));
  assert.deepEqual(out.attributes, { a: 'b' });
  assert.equal(out.body, 'line');
});

test('injectKeyPrefix prefixes every parsed name (made safe: data. gives data_)', () => {
  const out = kept(parser({ key: 'log', format: 'json', injectKeyPrefix: 'data.' }), rec(DOC));
  assert.deepEqual(out.attributes, { data_user: '1', data_num: '2' });
});

test('hashValueField puts the parsed values under one name, flattened', () => {
  const out = kept(parser({ key: 'log', format: 'json', hashValueField: 'parsed' }), rec(DOC));
  assert.deepEqual(out.attributes, { parsed_user: '1', parsed_num: '2' });
  const both = kept(
    parser({
      key: 'log',
      format: 'json',
      hashValueField: 'parsed',
      injectKeyPrefix: 'p_',
      reserveData: true,
    }),
    rec(DOC),
  );
  assert.deepEqual(both.attributes, { key: 'value', parsed_p_user: '1', parsed_p_num: '2' });
});

test('json: nested objects join with _, arrays stay JSON text, nulls are skipped, a parsed value wins', () => {
  const f = parser({ format: 'json', reserveData: true });
  const out = kept(
    f,
    rec({
      attributes: { level: 'old' },
      body: '{"a":{"b":{"c":1}},"list":[1,{"x":2}],"n":null,"t":true,"level":"info","k-8":"v"}',
    }),
  );
  assert.deepEqual(out.attributes, { level: 'info', a_b_c: '1', list: '[1,{"x":2}]', t: 'true', k_8: 'v' });
});

test('json: a parsed message or log becomes the body (Docker JSON lines), with timeKey setting the time', () => {
  const line = '{"log":"hello\\n","stream":"stdout","time":"2020-02-21T10:31:27.810781647Z"}';
  const out = kept(parser({ format: 'json', timeKey: 'time' }), rec({ body: line }));
  assert.equal(out.body, 'hello\n');
  assert.deepEqual(out.attributes, { stream: 'stdout' }, 'the time key is removed');
  assert.equal(out.timestamp, 1582281087810781647n);

  const keep = kept(parser({ format: 'json', timeKey: 'time', keepTimeKey: true }), rec({ body: line }));
  assert.equal(keep.attributes.time, '2020-02-21T10:31:27.810781647Z');

  const reserve = kept(parser({ format: 'json', timeKey: 'time', reserveTime: true }), rec({ body: line }));
  assert.equal(reserve.timestamp, T0);
  assert.equal(reserve.attributes.time, undefined);
});

test('json: of two body names, the first is the body and the second an attribute', () => {
  const out = kept(parser({ format: 'json' }), rec({ body: '{"log":"a","message":"b"}' }));
  assert.equal(out.body, 'a');
  assert.deepEqual(out.attributes, { message: 'b' });
});

test('logfmt: the Kata runtime message of seed 003, as its Fluentd section parses it', () => {
  const message = KATA_SEED_MESSAGE;
  const f = parser({
    keyName: 'MESSAGE',
    format: 'logfmt',
    reserveData: true,
    injectKeyPrefix: 'kata_',
    timeKey: 'time',
  });
  const out = kept(
    f,
    rec({ attributes: { MESSAGE: message, SYSLOG_IDENTIFIER: 'kata-runtime' }, body: 'b' }),
  );
  assert.deepEqual(out.attributes, {
    MESSAGE: message,
    SYSLOG_IDENTIFIER: 'kata-runtime',
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
  assert.equal(out.timestamp, 1582281087810781647n, 'time became the record time, as in the seed output');
  assert.equal(out.body, 'b');
});

test('cri: stream, logtag and the message as body, with the CRI time', () => {
  const f = parser({ format: 'cri' });
  const out = kept(f, rec({ body: '2024-01-02T03:04:05.123456789Z stderr F boom: it broke' }));
  assert.equal(out.body, 'boom: it broke');
  assert.deepEqual(out.attributes, { stream: 'stderr', logtag: 'F' });
  assert.equal(out.timestamp, 1704164645123456789n);
  const partial = kept(f, rec({ body: '2024-01-02T03:04:05Z stdout P part' }));
  assert.equal(partial.attributes.logtag, 'P');
});

test('syslog: RFC 5424 with structured data, and RFC 3164 with and without PRI', () => {
  const f = parser({ format: 'syslog', timezone: 'UTC' }, new Clock(Date.UTC(2020, 1, 21, 12)));
  const a = kept(
    f,
    rec({
      body: '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event',
    }),
  );
  assert.deepEqual(a.attributes, {
    pri: '165',
    facility: 'local4',
    severity: 'notice',
    host: 'mymachine.example.com',
    ident: 'evntslog',
    msgid: 'ID47',
    extradata: '[exampleSDID@32473 iut="3" eventSource="Application"]',
  });
  assert.equal(a.body, 'An application event');
  assert.equal(a.timestamp, 1065910455003000000n);

  const b = kept(f, rec({ body: '<6>Feb 21 10:31:27 minikube kata-runtime[14314]: level=info' }));
  assert.deepEqual(b.attributes, {
    pri: '6',
    facility: 'kern',
    severity: 'info',
    host: 'minikube',
    ident: 'kata-runtime',
    pid: '14314',
  });
  assert.equal(b.body, 'level=info');
  assert.equal(b.timestamp, BigInt(Date.UTC(2020, 1, 21, 10, 31, 27)) * 1_000_000n);

  const c = kept(f, rec({ body: 'Feb 21 10:31:27 host sshd[7]: Accepted publickey' }));
  assert.equal(c.attributes.pri, undefined, 'no PRI in the text, none in the values');
  assert.equal(c.attributes.ident, 'sshd');
  assert.equal(c.body, 'Accepted publickey');
});

test('a record that does not parse keeps its body and attributes and gets __error__', () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ format: 'json' }, '{"broken":', 'JSONParserErr'],
    [{ format: 'json' }, '[1,2]', 'JSONParserErr'],
    [{ format: 'logfmt' }, 'just some words', 'LogfmtParserErr'],
    [{ format: 'regexp', expression: '^(?<n>\\d+)$' }, 'abc', 'RegexpParserErr'],
    [{ format: 'cri' }, 'not a cri line', 'CRIParserErr'],
    [{ format: 'syslog' }, 'hello world', 'SyslogParserErr'],
    [{ format: 'syslog' }, '<999>Feb 21 10:31:27 h t: m', 'SyslogParserErr'],
  ];
  for (const [options, body, error] of cases) {
    const out = kept(parser(options), rec({ body, attributes: { keep: 'me' } }));
    assert.equal(out.body, body, `${error}: body kept`);
    assert.equal(out.attributes.keep, 'me');
    assert.equal(out.attributes.__error__, error, body);
    assert.ok((out.attributes.__error_details__ ?? '').length > 0, `${error}: details given`);
    assert.equal(out.timestamp, T0);
  }
});

test('a missing field and an unreadable time are errors too, naming the field', () => {
  const missing = kept(parser({ key: 'payload', format: 'json' }), rec({ body: '{}' }));
  assert.equal(missing.attributes.__error__, 'JSONParserErr');
  assert.match(missing.attributes.__error_details__ ?? '', /"payload" does not exist/);
  const badTime = kept(
    parser({ format: 'json', timeKey: 'ts' }),
    rec({ body: '{"ts":"yesterday-ish","a":1}' }),
  );
  assert.equal(badTime.attributes.__error__, 'JSONParserErr');
  assert.match(badTime.attributes.__error_details__ ?? '', /ts/);
  assert.equal(badTime.attributes.a, undefined, 'nothing parsed is written');
});

test('bad options are ConfigErrors naming the field', () => {
  throwsConfig(() => parser({}), 'parser', ['format'], /is required/);
  throwsConfig(() => parser({ format: 'xml' }), 'parser', ['format'], /must be one of json, logfmt/);
  throwsConfig(
    () => parser({ format: 'json', expression: 'x' }),
    'parser',
    ['expression'],
    /only for format regexp/,
  );
  throwsConfig(() => parser({ format: 'regexp' }), 'parser', ['expression'], /is required/);
  throwsConfig(
    () => parser({ format: 'regexp', expression: '(\\d+)' }),
    'parser',
    ['expression'],
    /named group/,
  );
  throwsConfig(
    () => parser({ format: 'regexp', expression: '(?<a>[' }),
    'parser',
    ['expression'],
    /invalid regular expression/,
  );
  throwsConfig(
    () => parser({ format: 'json', reserve_data: true }),
    'parser',
    ['reserve_data'],
    /unknown field/,
  );
  throwsConfig(
    () => parser({ format: 'json', reserveData: 'yes' }),
    'parser',
    ['reserveData'],
    /true or false/,
  );
  throwsConfig(
    () => parser({ format: 'json', hashValueField: 'a.b' }),
    'parser',
    ['hashValueField'],
    /not safe/,
  );
  throwsConfig(() => parser({ format: 'json', key: 'a', keyName: 'b' }), 'parser', ['keyName'], /not both/);
  throwsConfig(() => parser({ format: 'json', key: 'labels.' }), 'parser', ['key'], /must name a label/);
  throwsConfig(() => parser({ format: 'syslog', timezone: 'CET' }), 'parser', ['timezone'], /local, UTC/);
  throwsConfig(() => parser('json'), 'parser', [], /must be a mapping/);
});
