/**
 * @module The `syslog` output against RFC 5424, RFC 3164, RFC 6587 (octet counting, LF framing) and
 * RFC 5425 (TLS): exact messages and frames received by test sockets, reconnection, and the Output
 * contract over TCP and TLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, Options } from '../../../../src/config/options.js';
import { syslogOutput } from '../../../../src/pipeline/outputs/net/syslog.js';
import {
  formatSyslog,
  frame,
  structuredData,
  timestamp3164,
  timestamp5424,
} from '../../../../src/pipeline/outputs/net/syslog-format.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { parseSyslog, type SyslogMessage } from '../../../../src/sources/syslog/parse.js';
import { makePki, type Pki } from '../../../auth/pki.js';
import { type OutputHarness, outputContract } from '../output-contract.js';
import { rec, signal, TcpPeer, UdpPeer, until } from './peers.js';

const ctx = { baseDir: '/tmp' };
const make = (o: Record<string, unknown>, baseDir = '/tmp') =>
  syslogOutput('s', new Options(o, ['outputs', 0]), { ...ctx, baseDir });

/** Splits octet-counted frames strictly (`LEN SP MSG`, LEN in bytes); the rest must be empty. */
export function octetFrames(bytes: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const sp = bytes.indexOf(0x20, pos);
    assert.ok(sp > pos, `a length at byte ${pos}`);
    const len = Number(bytes.toString('ascii', pos, sp));
    assert.ok(Number.isInteger(len) && len > 0, `length ${bytes.toString('ascii', pos, sp)}`);
    assert.ok(sp + 1 + len <= bytes.length, 'a complete frame');
    out.push(bytes.toString('utf8', sp + 1, sp + 1 + len));
    pos = sp + 1 + len;
  }
  return out;
}

const BASE = { hostname: 'node-1', appName: 'app' };

describe('syslog: formats', () => {
  test('RFC 5424 timestamp has at most six fraction digits, UTC', () => {
    assert.equal(timestamp5424(1_709_618_828_123_456_789n), '2024-03-05T06:07:08.123456Z');
    assert.equal(timestamp5424(1_709_618_828_000_000_000n), '2024-03-05T06:07:08Z');
    assert.equal(timestamp5424(1_709_618_828_500_000_000n), '2024-03-05T06:07:08.5Z');
  });

  test('RFC 3164 timestamp: Mmm, space-padded day', () => {
    assert.equal(timestamp3164(1_709_618_828_123_456_789n, 'UTC'), 'Mar  5 06:07:08');
    assert.equal(timestamp3164(1_702_000_000_000_000_000n, 'UTC'), 'Dec  8 01:46:40');
  });

  test('structured data escapes ", \\ and ] and cleans names (RFC 5424 §6.3)', () => {
    assert.equal(
      structuredData({ a: 'say "hi" \\ [x]', 'b c=d]': 'v', é: 'u' }, 'kjournal@32473'),
      '[kjournal@32473 a="say \\"hi\\" \\\\ [x\\]" b_c_d_="v" _="u"]',
    );
    assert.equal(structuredData({}, 'kjournal@32473'), '-');
    assert.equal(structuredData({ a: 'b' }, ''), '-');
  });

  const opts = {
    format: 'rfc5424' as const,
    facility: 16,
    severity: 6,
    hostname: 'node-1',
    appName: 'app',
    sdId: 'kjournal@32473',
    timezone: 'UTC' as const,
  };

  test('RFC 5424 message byte for byte; severity from the level attribute', () => {
    const r = rec('héllo wörld', { attributes: { level: 'warning', user: 'a]b' } });
    assert.equal(
      formatSyslog(r, opts),
      '<132>1 2024-03-05T06:07:08.123456Z node-1 app - - [kjournal@32473 level="warning" user="a\\]b"] héllo wörld',
    );
    assert.equal(formatSyslog(rec('x'), opts), '<134>1 2024-03-05T06:07:08.123456Z node-1 app - - - x');
    assert.equal(formatSyslog(rec(''), opts), '<134>1 2024-03-05T06:07:08.123456Z node-1 app - - -');
  });

  test('header fields: printable ASCII, cut to length; app name from a field', () => {
    const o = { ...opts, hostname: 'my host', appNameFrom: 'namespace' };
    assert.equal(formatSyslog(rec('x'), o), '<134>1 2024-03-05T06:07:08.123456Z my_host ns1 - - - x');
    const long = { ...opts, appName: 'a'.repeat(60) };
    assert.equal(formatSyslog(rec('x'), long).split(' ')[3], 'a'.repeat(48));
  });

  test('RFC 3164 message byte for byte, and parsed back by the syslog source', () => {
    const o = { ...opts, format: 'rfc3164' as const, facility: 1 };
    const line = formatSyslog(rec('hello there', { attributes: { level: 'err' } }), o);
    assert.equal(line, '<11>Mar  5 06:07:08 node-1 app: hello there');
    const parsed: SyslogMessage = parseSyslog(line, { timezone: 'UTC', now: 1_709_618_828_000_000_000n });
    assert.equal(parsed.hostname, 'node-1');
    assert.equal(parsed.appname, 'app');
    assert.equal(parsed.msg, 'hello there');
    assert.equal(parsed.severity, 3);
    assert.equal(parsed.timestamp, 1_709_618_828_000_000_000n);
  });

  test('framing: octet counting counts bytes; LF framing escapes LF', () => {
    assert.equal(frame('<13>1 - - - - - - é', 'octet-counting').toString(), '20 <13>1 - - - - - - é');
    assert.equal(frame('a\nb', 'lf').toString(), 'a#012b\n');
  });

  test('RFC 5424 round trip through the syslog source parser', () => {
    const r = rec('body text', { attributes: { k: 'v"]\\' } });
    const p = parseSyslog(formatSyslog(r, opts));
    assert.equal(p.format, 5424);
    assert.equal(p.timestamp, 1_709_618_828_123_456_000n);
    assert.deepEqual(p.structuredData, [{ id: 'kjournal@32473', params: [['k', 'v"]\\']] }]);
    assert.equal(p.msg, 'body text');
  });
});

describe('syslog: options', () => {
  test('bad options are ConfigErrors naming the field', () => {
    const path = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.path.join('.');
      }
      assert.fail('no error');
    };
    assert.equal(
      path(() => make({ url: 'tcp://h:1', facility: 'nope' })),
      'outputs.0.facility',
    );
    assert.equal(
      path(() => make({ url: 'tcp://h:1', severity: 'loud' })),
      'outputs.0.severity',
    );
    assert.equal(
      path(() => make({ url: 'udp://h:1', framing: 'lf' })),
      'outputs.0.framing',
    );
    assert.equal(
      path(() => make({ url: 'tcp://h:1', format: 'rfc9999' })),
      'outputs.0.format',
    );
    assert.equal(
      path(() => make({ url: 'tcp://h:1', tls: {} })),
      'outputs.0.tls',
    );
    assert.equal(
      path(() => make({ url: 'tls://h:1', tls: { ca: 'missing.pem' } })),
      'outputs.0.tls.ca',
    );
    assert.equal(make({ url: 'udp://h:1', facility: 'local7', severity: 'debug' }).type, 'syslog');
    assert.equal(make({ url: 'udp://h:1', facility: 23, severity: 7 }).type, 'syslog');
  });
});

describe('syslog over the network', () => {
  test('TCP, octet counting: the exact frames', async () => {
    const peer = new TcpPeer();
    await peer.start();
    const out = make({ url: `tcp://127.0.0.1:${peer.port}`, ...BASE, facility: 'local0' });
    const records = [rec('one'), rec('two\nlines', { attributes: { level: 'debug' } }, 1)];
    await out.send(records, signal());
    const fmt = {
      format: 'rfc5424' as const,
      facility: 16,
      severity: 6,
      ...BASE,
      sdId: 'kjournal@32473',
      timezone: 'local' as const,
    };
    const want = Buffer.concat(records.map((r) => frame(formatSyslog(r, fmt), 'octet-counting')));
    await until('bytes', () => peer.bytes.length >= want.length);
    assert.deepEqual(peer.bytes, want);
    assert.deepEqual(octetFrames(peer.bytes), [
      '<134>1 2024-03-05T06:07:08.123456Z node-1 app - - - one',
      '<135>1 2024-03-05T06:07:08.123457Z node-1 app - - [kjournal@32473 level="debug"] two\nlines',
    ]);
    await out.close();
    await peer.stop();
  });

  test('TCP, LF framing, RFC 3164', async () => {
    const peer = new TcpPeer();
    await peer.start();
    const out = make({
      url: `tcp://127.0.0.1:${peer.port}`,
      ...BASE,
      framing: 'lf',
      format: 'rfc3164',
      timezone: 'UTC',
    });
    await out.send([rec('a'), rec('b\nc', {}, 1)], signal());
    const want = '<14>Mar  5 06:07:08 node-1 app: a\n<14>Mar  5 06:07:08 node-1 app: b#012c\n';
    await until('bytes', () => peer.bytes.length >= want.length);
    assert.equal(peer.bytes.toString(), want);
    await out.close();
    await peer.stop();
  });

  test('UDP: one datagram per record; RFC 3164 and RFC 5424', async () => {
    const peer = new UdpPeer();
    await peer.start();
    const o3164 = make({ url: `udp://127.0.0.1:${peer.port}`, ...BASE, format: 'rfc3164', timezone: 'UTC' });
    await o3164.send([rec('x'), rec('y', {}, 1)], signal());
    const o5424 = make({ url: `udp://127.0.0.1:${peer.port}`, ...BASE, structuredDataId: '' });
    await o5424.send([rec('z', { attributes: { a: 'b' } })], signal());
    await until('3 datagrams', () => peer.datagrams.length === 3);
    assert.deepEqual(
      peer.datagrams.map((d) => d.toString()),
      [
        '<14>Mar  5 06:07:08 node-1 app: x',
        '<14>Mar  5 06:07:08 node-1 app: y',
        '<14>1 2024-03-05T06:07:08.123456Z node-1 app - - - z',
      ],
    );
    await o3164.close();
    await o5424.close();
    await peer.stop();
  });

  test('UDP: a message longer than maxDatagramSize is cut on a character boundary', async () => {
    const peer = new UdpPeer();
    await peer.start();
    const out = make({ url: `udp://127.0.0.1:${peer.port}`, ...BASE, maxDatagramSize: 500 });
    await out.send([rec('é'.repeat(1000))], signal());
    await until('1 datagram', () => peer.datagrams.length === 1);
    const d = peer.datagrams[0]!;
    assert.ok(d.length <= 500 && d.length >= 499);
    assert.ok(!d.toString('utf8').includes('\uFFFD'));
    await out.close();
    await peer.stop();
  });

  test('a connection the peer closed is reopened for the next batch', async () => {
    const peer = new TcpPeer();
    await peer.start();
    const out = make({ url: `tcp://127.0.0.1:${peer.port}`, ...BASE });
    await out.send([rec('first')], signal());
    await until('first', () => peer.bytes.length > 0);
    peer.connections[0]!.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await out.send([rec('second')], signal());
    await until('second connection', () => (peer.connections[1]?.bytes.length ?? 0) > 0);
    assert.match(octetFrames(peer.connections[1]!.bytes)[0]!, / second$/);
    await out.close();
    await peer.stop();
  });

  test('peer down: retryable OutputError (connection refused)', async () => {
    const peer = new TcpPeer();
    await peer.start();
    await peer.stop();
    const out = make({ url: `tcp://127.0.0.1:${peer.port}`, ...BASE });
    await assert.rejects(
      out.send([rec('x')], signal()),
      (e: unknown) => e instanceof OutputError && e.retryable,
    );
    await out.close();
  });

  describe('TLS (RFC 5425)', () => {
    let pki: Pki;
    before(() => {
      pki = makePki();
    });
    after(() => pki.cleanup());

    test('octet-counted frames over TLS with a CA file and a client certificate', async () => {
      const peer = new TcpPeer({
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true },
      });
      await peer.start();
      const out = make(
        {
          url: `tls://127.0.0.1:${peer.port}`,
          ...BASE,
          tls: { ca: 'ca.crt', cert: pki.alice.certFile, key: pki.alice.keyFile },
        },
        pki.dir,
      );
      await out.send([rec('secret')], signal());
      await until('bytes', () => peer.bytes.length > 0);
      assert.deepEqual(octetFrames(peer.bytes), [
        '<14>1 2024-03-05T06:07:08.123456Z node-1 app - - - secret',
      ]);
      await out.close();
      await peer.stop();
    });

    test('an unknown server certificate is refused (retryable); insecureSkipVerify accepts it', async () => {
      const peer = new TcpPeer({ tls: { cert: pki.server.cert, key: pki.server.key } });
      await peer.start();
      const strict = make({ url: `tls://127.0.0.1:${peer.port}`, ...BASE });
      await assert.rejects(
        strict.send([rec('x')], signal()),
        (e: unknown) => e instanceof OutputError && e.retryable,
      );
      await strict.close();
      const lax = make({ url: `tls://127.0.0.1:${peer.port}`, ...BASE, tls: { insecureSkipVerify: true } });
      await lax.send([rec('y')], signal());
      await until('bytes', () => peer.bytes.length > 0);
      await lax.close();
      await peer.stop();
    });
  });
});

function tcpHarness(extra: Record<string, unknown>, tlsPeer?: () => Pki) {
  return async (): Promise<OutputHarness> => {
    const pki = tlsPeer?.();
    const peer = new TcpPeer(pki ? { tls: { cert: pki.server.cert, key: pki.server.key } } : {});
    await peer.start();
    const scheme = pki ? 'tls' : 'tcp';
    const output = make(
      {
        url: `${scheme}://127.0.0.1:${peer.port}`,
        ...BASE,
        ...(pki && { tls: { ca: pki.ca.certFile } }),
        ...extra,
      },
      pki?.dir,
    );
    return {
      output,
      async received() {
        await new Promise((r) => setTimeout(r, 100));
        const msgs =
          extra.framing === 'lf'
            ? peer.bytes.toString('utf8').split('\n').slice(0, -1)
            : octetFrames(peer.bytes);
        return msgs.map((m) => parseSyslog(m).msg);
      },
      stopPeer: () => peer.stop(),
      startPeer: () => peer.start(),
      async close() {
        await output.close();
        await peer.stop();
      },
    };
  };
}

outputContract('syslog (tcp, octet counting)', tcpHarness({}));
outputContract('syslog (tcp, lf, rfc3164)', tcpHarness({ framing: 'lf', format: 'rfc3164' }));
let contractPki: Pki | undefined;
after(() => contractPki?.cleanup());
outputContract(
  'syslog (tls)',
  tcpHarness({}, () => {
    contractPki ??= makePki();
    return contractPki;
  }),
);
