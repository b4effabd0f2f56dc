/**
 * @module Test certificates made with the `openssl` CLI in a temporary directory: a CA for users
 * (which also signs the server's certificate, SAN 127.0.0.1), a separate CA for the front proxy, an
 * unknown CA, an intermediate CA under the user CA, and client certificates under each.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
[server_only_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
[server_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
`;

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface Pki {
  readonly dir: string;
  readonly ca: KeyPair;
  readonly requestHeaderCa: KeyPair;
  readonly rogueCa: KeyPair;
  readonly intermediateCa: KeyPair;
  readonly server: KeyPair;
  /** CN=alice, O=dev, O=ops, signed by the user CA. */
  readonly alice: KeyPair;
  /** CN=carol, O=qa, signed by the intermediate CA (send it with the intermediate). */
  readonly carol: KeyPair;
  /** CN=front-proxy-client, signed by the requestheader CA. */
  readonly frontProxy: KeyPair;
  /** CN=other-proxy, signed by the requestheader CA but not an allowed name. */
  readonly otherProxy: KeyPair;
  /** CN=mallory, O=system:masters, signed by an unknown CA. */
  readonly mallory: KeyPair;
  /** CN=webserver, signed by the user CA but for server authentication only. */
  readonly serverOnly: KeyPair;
  cleanup(): void;
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'kj-auth-pki-'));
  const cnf = join(dir, 'openssl.cnf');
  writeFileSync(cnf, CONFIG);
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const pair = (name: string): KeyPair => {
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string, cn: string): KeyPair => {
    run(
      ['req', '-x509', '-config', cnf, '-extensions', 'ca_ext', ...newKey, '-keyout', `${name}.key`].concat([
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
      ]),
    );
    return pair(name);
  };
  let serial = 1000;
  const sign = (name: string, subj: string, ca: string, ext: string): KeyPair => {
    run([
      'req',
      '-new',
      '-config',
      cnf,
      ...newKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subj,
    ]);
    run(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial'].concat(
        [String(serial++), '-out', `${name}.crt`, '-days', '1', '-extfile', cnf, '-extensions', ext],
      ),
    );
    return pair(name);
  };
  const ca = makeCa('ca', 'kjournal-test-ca');
  const requestHeaderCa = makeCa('rh-ca', 'kjournal-test-front-proxy-ca');
  const rogueCa = makeCa('rogue-ca', 'kjournal-test-ca');
  const intermediateCa = sign('int-ca', '/CN=kjournal-test-intermediate', 'ca', 'ca_ext');
  return {
    dir,
    ca,
    requestHeaderCa,
    rogueCa,
    intermediateCa,
    server: sign('server', '/CN=127.0.0.1', 'ca', 'server_ext'),
    alice: sign('alice', '/O=dev/O=ops/CN=alice', 'ca', 'client_ext'),
    carol: sign('carol', '/O=qa/CN=carol', 'int-ca', 'client_ext'),
    frontProxy: sign('front-proxy', '/CN=front-proxy-client', 'rh-ca', 'client_ext'),
    otherProxy: sign('other-proxy', '/CN=other-proxy', 'rh-ca', 'client_ext'),
    mallory: sign('mallory', '/O=system:masters/CN=mallory', 'rogue-ca', 'client_ext'),
    serverOnly: sign('server-only', '/CN=webserver', 'ca', 'server_only_ext'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
