import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { type AuthFlags, addAuthFlags, authConfigFromFlags, isLoopbackHost } from '../../src/auth/index.js';

function parse(args: string[]): AuthFlags {
  const cmd = addAuthFlags(new Command('serve').exitOverride());
  cmd.parse(args, { from: 'user' });
  return cmd.opts<AuthFlags>();
}

describe('auth flags', () => {
  it('are named as kube-apiserver names them and become a config', () => {
    const config = authConfigFromFlags(
      parse([
        '--tls-cert-file=s.crt',
        '--tls-private-key-file=s.key',
        '--client-ca-file=ca.crt',
        '--token-auth-file=t.csv',
        '--requestheader-client-ca-file=rh.crt',
        '--requestheader-allowed-names=front-proxy-client, aggregator',
        '--authentication-kubeconfig=k.yaml',
        '--authentication-token-webhook-cache-ttl=2m',
        '--authorization-policy-file=p.jsonl',
        '--authorization-kubeconfig=k.yaml',
        '--authorization-webhook-cache-unauthorized-ttl=10s',
      ]),
    );
    assert.deepEqual(config, {
      tls: { certFile: 's.crt', keyFile: 's.key' },
      clientCaFile: 'ca.crt',
      tokenAuthFile: 't.csv',
      requestHeader: {
        clientCaFile: 'rh.crt',
        allowedNames: ['front-proxy-client', 'aggregator'],
        usernameHeaders: ['X-Remote-User'],
        groupHeaders: ['X-Remote-Group'],
        extraHeaderPrefixes: ['X-Remote-Extra-'],
      },
      tokenReview: { kubeconfig: 'k.yaml', cacheTtlMs: 120_000, timeoutMs: 10_000 },
      policyFile: 'p.jsonl',
      sar: { kubeconfig: 'k.yaml', allowTtlMs: 300_000, denyTtlMs: 10_000, timeoutMs: 10_000 },
    });
  });

  it('without flags give an empty config', () => {
    assert.deepEqual(authConfigFromFlags(parse([])), {});
  });

  it('refuse allowed names without the requestheader CA', () => {
    assert.throws(
      () => authConfigFromFlags(parse(['--requestheader-allowed-names=x'])),
      /needs --requestheader-client-ca-file/,
    );
  });

  it('know loopback addresses', () => {
    assert.deepEqual(
      [
        '127.0.0.1',
        '::1',
        'localhost',
        '0.0.0.0',
        '::',
        '192.168.1.1',
        'example.com',
        '::ffff:127.0.0.1',
      ].map(isLoopbackHost),
      [true, true, true, false, false, false, false, true],
    );
  });
});
