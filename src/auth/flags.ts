/**
 * @module The auth flags of `kjournal serve`, named as kube-apiserver names them, and their
 * translation into an AuthConfig. Contradictory or incomplete combinations are an AuthConfigError of
 * one line (a client CA without TLS, a certificate without its key, ...).
 */
import type { Command } from 'commander';
import { parseDuration } from '../go/duration.js';
import {
  type AuthConfig,
  DEFAULT_REQUEST_HEADERS,
  DEFAULT_SAR_TIMING,
  DEFAULT_TOKEN_REVIEW_TIMING,
  type RequestHeaderConfig,
} from './config.js';
import { AuthConfigError } from './errors.js';

/** The options commander gives for the flags `addAuthFlags` adds. */
export interface AuthFlags {
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  tokenAuthFile?: string;
  requestheaderClientCaFile?: string;
  requestheaderAllowedNames?: string;
  requestheaderUsernameHeaders?: string;
  requestheaderGroupHeaders?: string;
  requestheaderExtraHeadersPrefix?: string;
  authenticationKubeconfig?: string;
  authenticationTokenWebhookCacheTtl?: string;
  authorizationPolicyFile?: string;
  authorizationKubeconfig?: string;
  authorizationWebhookCacheAuthorizedTtl?: string;
  authorizationWebhookCacheUnauthorizedTtl?: string;
}

/** Adds the auth flags to a command (`kjournal serve`). */
export function addAuthFlags(cmd: Command): Command {
  return cmd
    .option('--tls-cert-file <file>', 'serve HTTPS with this certificate (PEM, chain after the leaf)')
    .option('--tls-private-key-file <file>', 'private key of --tls-cert-file (PEM)')
    .option('--client-ca-file <file>', 'client certificates signed by this CA authenticate as CN, groups O')
    .option('--token-auth-file <file>', 'static bearer tokens, CSV: token,user,uid,"group1,group2"')
    .option(
      '--requestheader-client-ca-file <file>',
      'CA of the front proxy whose X-Remote-User/-Group/-Extra-* headers are trusted',
    )
    .option(
      '--requestheader-allowed-names <names>',
      'comma-separated common names the front proxy certificate may have (empty: any)',
    )
    .option(
      '--requestheader-username-headers <headers>',
      'comma-separated user name headers',
      'X-Remote-User',
    )
    .option('--requestheader-group-headers <headers>', 'comma-separated group headers', 'X-Remote-Group')
    .option(
      '--requestheader-extra-headers-prefix <prefixes>',
      'comma-separated extra header prefixes',
      'X-Remote-Extra-',
    )
    .option(
      '--authentication-kubeconfig <file>',
      'check bearer tokens the token file does not know (ServiceAccount tokens) with this cluster (TokenReview)',
    )
    .option(
      '--authentication-token-webhook-cache-ttl <duration>',
      'how long TokenReview answers are kept',
      '10s',
    )
    .option(
      '--authorization-policy-file <file>',
      'ABAC policies, one JSON Policy per line (kube-apiserver format)',
    )
    .option('--authorization-kubeconfig <file>', 'ask this cluster with SubjectAccessReview')
    .option(
      '--authorization-webhook-cache-authorized-ttl <duration>',
      'how long allowed answers are kept',
      '5m',
    )
    .option(
      '--authorization-webhook-cache-unauthorized-ttl <duration>',
      'how long denied answers are kept',
      '30s',
    );
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function ttlMs(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ns = parseDuration(value);
  if (ns === undefined || ns < 0n) {
    throw new AuthConfigError(
      `${flag} must be a duration such as 5m or 30s, got ${JSON.stringify(value)}`,
      'usage',
    );
  }
  return Number(ns / 1_000_000n);
}

/** The configuration the flags describe (files are read later, by createAuth). */
export function authConfigFromFlags(flags: AuthFlags): AuthConfig {
  const out: { -readonly [K in keyof AuthConfig]: AuthConfig[K] } = {};
  if ((flags.tlsCertFile === undefined) !== (flags.tlsPrivateKeyFile === undefined)) {
    throw new AuthConfigError('--tls-cert-file and --tls-private-key-file must be given together', 'usage');
  }
  if (flags.tlsCertFile !== undefined && flags.tlsPrivateKeyFile !== undefined) {
    out.tls = { certFile: flags.tlsCertFile, keyFile: flags.tlsPrivateKeyFile };
  }
  for (const [flag, value] of [
    ['--client-ca-file', flags.clientCaFile],
    ['--requestheader-client-ca-file', flags.requestheaderClientCaFile],
  ] as const) {
    if (value !== undefined && out.tls === undefined) {
      throw new AuthConfigError(
        `${flag} needs --tls-cert-file and --tls-private-key-file (client certificates need TLS)`,
        'usage',
      );
    }
  }
  if (flags.clientCaFile !== undefined) out.clientCaFile = flags.clientCaFile;
  if (flags.tokenAuthFile !== undefined) out.tokenAuthFile = flags.tokenAuthFile;
  if (flags.requestheaderClientCaFile !== undefined) {
    const rh: RequestHeaderConfig = {
      clientCaFile: flags.requestheaderClientCaFile,
      allowedNames: list(flags.requestheaderAllowedNames),
      usernameHeaders: flags.requestheaderUsernameHeaders
        ? list(flags.requestheaderUsernameHeaders)
        : [...DEFAULT_REQUEST_HEADERS.usernameHeaders],
      groupHeaders: flags.requestheaderGroupHeaders
        ? list(flags.requestheaderGroupHeaders)
        : [...DEFAULT_REQUEST_HEADERS.groupHeaders],
      extraHeaderPrefixes: flags.requestheaderExtraHeadersPrefix
        ? list(flags.requestheaderExtraHeadersPrefix)
        : [...DEFAULT_REQUEST_HEADERS.extraHeaderPrefixes],
    };
    if (rh.usernameHeaders.length === 0) {
      throw new AuthConfigError('--requestheader-username-headers must name at least one header', 'usage');
    }
    out.requestHeader = rh;
  } else if (flags.requestheaderAllowedNames !== undefined) {
    throw new AuthConfigError('--requestheader-allowed-names needs --requestheader-client-ca-file', 'usage');
  }
  if (flags.authenticationKubeconfig !== undefined) {
    out.tokenReview = {
      kubeconfig: flags.authenticationKubeconfig,
      cacheTtlMs: ttlMs(
        '--authentication-token-webhook-cache-ttl',
        flags.authenticationTokenWebhookCacheTtl,
        DEFAULT_TOKEN_REVIEW_TIMING.cacheTtlMs,
      ),
      timeoutMs: DEFAULT_TOKEN_REVIEW_TIMING.timeoutMs,
    };
  }
  if (
    out.tokenReview !== undefined &&
    flags.authorizationKubeconfig === undefined &&
    flags.authorizationPolicyFile === undefined
  ) {
    // Without an authorizer every authenticated user may do everything (AlwaysAllow): with
    // TokenReview that is every ServiceAccount and every user of the cluster, not a list of ours.
    throw new AuthConfigError(
      '--authentication-kubeconfig needs --authorization-kubeconfig or --authorization-policy-file: without an authorizer every ServiceAccount and user of the cluster could read and write everything',
      'usage',
    );
  }
  if (flags.authorizationPolicyFile !== undefined) out.policyFile = flags.authorizationPolicyFile;
  if (flags.authorizationKubeconfig !== undefined) {
    out.sar = {
      kubeconfig: flags.authorizationKubeconfig,
      allowTtlMs: ttlMs(
        '--authorization-webhook-cache-authorized-ttl',
        flags.authorizationWebhookCacheAuthorizedTtl,
        DEFAULT_SAR_TIMING.allowTtlMs,
      ),
      denyTtlMs: ttlMs(
        '--authorization-webhook-cache-unauthorized-ttl',
        flags.authorizationWebhookCacheUnauthorizedTtl,
        DEFAULT_SAR_TIMING.denyTtlMs,
      ),
      timeoutMs: DEFAULT_SAR_TIMING.timeoutMs,
    };
  }
  return out;
}
