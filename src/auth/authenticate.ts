/**
 * @module Authentication: from a request to a user, with kube-apiserver's authenticators in its
 * order: the front proxy's request headers, then client certificates, then bearer tokens of the
 * token file, then bearer tokens the cluster checks (TokenReview, src/auth/token-review.ts). The first
 * one that recognises the request wins; one that finds credentials it cannot accept records why, and
 * when none wins the request is refused (401). A request without credentials is anonymous only when
 * no authenticator is configured at all. Authenticated users get `system:authenticated`, as in
 * kube-apiserver.
 *
 * The front proxy (API aggregation) is trusted only when its client certificate chains to
 * `--requestheader-client-ca-file` and its CN is allowed; then `X-Remote-User`, `X-Remote-Group`
 * (repeatable) and `X-Remote-Extra-<key>` say who the user is. Any other certificate, however valid,
 * is a user of its own and its `X-Remote-*` headers mean nothing.
 */

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ServerOptions } from 'node:https';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { loadClusterConnection } from './cluster-connection.js';
import type { AuthConfig, RequestHeaderConfig } from './config.js';
import { AuthConfigError, AuthenticationError, readConfigFile } from './errors.js';
import { loadTokenFile, type TokenTable } from './token-file.js';
import { TokenReviewer } from './token-review.js';
import { ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, ANONYMOUS_USER, type UserInfo } from './types.js';
import { type CaBundle, peerChain, readCaBundle, subjectCn, subjectValues, verifyChain } from './x509.js';

/** One authenticator: a user, `undefined` (no opinion: nothing for it here), or a thrown reason. */
export type RequestAuthenticator = (req: IncomingMessage) => UserInfo | undefined;
/** An authenticator that may ask someone else (the cluster's TokenReview): the same answers, later. */
export type AsyncRequestAuthenticator = (req: IncomingMessage) => Promise<UserInfo | undefined>;

export interface Authenticators {
  readonly chain: readonly {
    readonly name: string;
    readonly authenticate: RequestAuthenticator | AsyncRequestAuthenticator;
  }[];
  /** Requests without credentials are `system:anonymous` (no authenticator configured). */
  readonly anonymous: boolean;
}

function tlsSocket(req: IncomingMessage): TLSSocket | undefined {
  const s = req.socket as Partial<TLSSocket>;
  return s.encrypted === true && typeof s.getPeerX509Certificate === 'function'
    ? (s as TLSSocket)
    : undefined;
}

/** Header values in order, repeated headers kept apart (never joined with commas). */
function headerValues(req: IncomingMessage, name: string): string[] {
  const key = name.toLowerCase();
  const distinct = req.headersDistinct?.[key];
  if (distinct !== undefined) return [...distinct];
  const v = req.headers[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function pathUnescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // kube-apiserver keeps a malformed key as it came
  }
}

function deleteHeaders(headers: IncomingHttpHeaders, names: Iterable<string>): void {
  for (const n of names) delete headers[n.toLowerCase()];
}

/** The front proxy's authenticator, behind its certificate check. */
export function requestHeaderAuthenticator(cfg: RequestHeaderConfig, ca: CaBundle): RequestAuthenticator {
  return (req) => {
    const socket = tlsSocket(req);
    const chain = socket ? peerChain(socket) : [];
    if (chain.length === 0) return undefined;
    const bad = verifyChain(chain, ca.certs);
    if (bad !== undefined) throw new AuthenticationError(`front proxy: ${bad}`);
    const cn = subjectCn(chain[0]!);
    if (cfg.allowedNames.length > 0 && !cfg.allowedNames.includes(cn)) {
      throw new AuthenticationError(`front proxy: subject with cn=${cn} is not in the allowed list`);
    }
    let name = '';
    for (const h of cfg.usernameHeaders) {
      name = headerValues(req, h)[0] ?? '';
      if (name !== '') break;
    }
    if (name === '') return undefined;
    const groups = cfg.groupHeaders.flatMap((h) => headerValues(req, h).filter((v) => v !== ''));
    const extra: Record<string, string[]> = {};
    const extraHeaders: string[] = [];
    for (const prefix of cfg.extraHeaderPrefixes) {
      const p = prefix.toLowerCase();
      for (const header of Object.keys(req.headers)) {
        if (!header.startsWith(p)) continue;
        extraHeaders.push(header);
        const key = pathUnescape(header.slice(p.length));
        extra[key] = [...(extra[key] ?? []), ...headerValues(req, header)];
      }
    }
    // The headers are spent: nothing downstream may read them again.
    deleteHeaders(req.headers, [...cfg.usernameHeaders, ...cfg.groupHeaders, ...extraHeaders]);
    return { name, groups, extra };
  };
}

/** Client certificates signed by `--client-ca-file`: user = CN, groups = O. */
export function clientCertAuthenticator(ca: CaBundle): RequestAuthenticator {
  return (req) => {
    const socket = tlsSocket(req);
    const chain = socket ? peerChain(socket) : [];
    if (chain.length === 0) return undefined;
    const bad = verifyChain(chain, ca.certs);
    if (bad !== undefined) throw new AuthenticationError(`verifying certificate failed: ${bad}`);
    const leaf = chain[0]!;
    const name = subjectCn(leaf);
    if (name === '') return undefined; // kube-apiserver: no CN, no user
    return { name, groups: subjectValues(leaf, 'O'), extra: {} };
  };
}

/**
 * kube-apiserver's WebSocket bearer token (k8s.io/apiserver/pkg/authentication/request/websocket):
 * a browser cannot set `Authorization` on a WebSocket, so it offers the subprotocol
 * `base64url.bearer.authorization.k8s.io.<token, base64url without padding>`. Only on upgrades.
 */
const WEBSOCKET_TOKEN_PROTOCOL = 'base64url.bearer.authorization.k8s.io.';

/** A bearer token a request presents, and how to take it out of the request once it was accepted. */
interface PresentedToken {
  readonly token: string;
  /** Removes the token from the request: nothing downstream may read it (kube-apiserver does the same). */
  spend(): void;
}

/**
 * The token a WebSocket upgrade carries in its subprotocols; undefined without one. It is taken out
 * of the header only once accepted (kube's websocket.ProtocolAuthenticator), so that the next
 * authenticator still sees it and the WebSocket server then picks one of the others.
 */
function websocketToken(req: IncomingMessage): PresentedToken | undefined {
  if (!/\bwebsocket\b/i.test(String(req.headers.upgrade ?? ''))) return undefined;
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return undefined;
  const protocols = header.split(',').map((p) => p.trim());
  const offered = protocols.find((p) => p.startsWith(WEBSOCKET_TOKEN_PROTOCOL));
  if (offered === undefined) return undefined;
  const rest = protocols.filter((p) => !p.startsWith(WEBSOCKET_TOKEN_PROTOCOL));
  const encoded = offered.slice(WEBSOCKET_TOKEN_PROTOCOL.length);
  // kube-apiserver: an undecodable or empty token is an error of this authenticator.
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new AuthenticationError('invalid bearer token');
  const token = Buffer.from(encoded, 'base64url').toString('utf8');
  if (token === '') return undefined;
  return {
    token,
    spend() {
      if (rest.length > 0) req.headers['sec-websocket-protocol'] = rest.join(', ');
      else delete req.headers['sec-websocket-protocol'];
    },
  };
}

/**
 * The bearer token of a request: `Authorization: Bearer <token>` (with `splunk`, also `Splunk
 * <token>` on HEC's paths), or on a WebSocket upgrade without that header the token of
 * kube-apiserver's subprotocol (see WEBSOCKET_TOKEN_PROTOCOL); undefined without one.
 */
function presentedToken(req: IncomingMessage, splunk: boolean): PresentedToken | undefined {
  const auth = (headerValues(req, 'authorization')[0] ?? '').trim();
  if (auth === '') return websocketToken(req);
  const parts = auth.split(' ');
  const scheme = parts[0]!.toLowerCase();
  // Splunk's HEC clients send `Authorization: Splunk <token>`: the same tokens, on HEC's paths only.
  const hec = splunk && scheme === 'splunk' && (req.url ?? '').startsWith('/services/collector');
  if (parts.length < 2 || (scheme !== 'bearer' && !hec)) return undefined;
  const token = parts[1]!;
  if (token === '') return undefined;
  return {
    token,
    spend() {
      delete req.headers.authorization;
    },
  };
}

/**
 * `Authorization: Bearer <token>` (`Splunk <token>` on HEC's paths) looked up in a token table; on a WebSocket upgrade without that
 * header, the token of kube-apiserver's subprotocol (see WEBSOCKET_TOKEN_PROTOCOL).
 */
export function bearerTokenAuthenticator(tokens: TokenTable): RequestAuthenticator {
  return (req) => {
    const presented = presentedToken(req, true);
    if (presented === undefined) return undefined;
    const user = tokens.get(presented.token);
    if (user === undefined) throw new AuthenticationError('invalid bearer token');
    presented.spend();
    return user;
  };
}

/**
 * A bearer token (header or WebSocket subprotocol) checked by the cluster with a TokenReview, as
 * kube's delegating authenticator chains bearertoken.New and websocket.NewProtocolAuthenticator
 * over its token webhook. A token the cluster does not know is "invalid bearer token", as kube's
 * bearertoken authenticator says; one that could not be checked is the reviewer's
 * AuthenticationError: both answer 401, as in kube.
 */
export function tokenReviewAuthenticator(reviewer: TokenReviewer): AsyncRequestAuthenticator {
  return async (req) => {
    const presented = presentedToken(req, false);
    if (presented === undefined) return undefined;
    const user = await reviewer.authenticate(presented.token);
    if (user === undefined) throw new AuthenticationError('invalid bearer token');
    presented.spend();
    return user;
  };
}

/**
 * `Authorization: Basic base64(user:password)` whose password is a token of the token table: for
 * the shippers whose Elasticsearch outputs only send basic auth (Fluent Bit's `HTTP_User` and
 * `HTTP_Passwd`, Vector's `auth.strategy: basic`, rsyslog's `uid`/`pwd`). The user name is not
 * read: the token decides who is asking, as with a bearer token, so a user name with a colon
 * (`system:serviceaccount:...`), which basic auth cannot carry, is no obstacle.
 */
export function basicTokenAuthenticator(tokens: TokenTable): RequestAuthenticator {
  return (req) => {
    const auth = (headerValues(req, 'authorization')[0] ?? '').trim();
    const parts = auth.split(' ');
    if (parts.length < 2 || parts[0]!.toLowerCase() !== 'basic') return undefined;
    const decoded = Buffer.from(parts[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new AuthenticationError('invalid basic credentials');
    const token = decoded.slice(colon + 1);
    const user = token === '' ? undefined : tokens.get(token);
    if (user === undefined)
      throw new AuthenticationError('invalid basic credentials: the password is not a known token');
    delete req.headers.authorization;
    return user;
  };
}

/** A token of the table, as a bearer token or as a basic auth password. */
export function tokenAuthenticator(tokens: TokenTable): RequestAuthenticator {
  const bearer = bearerTokenAuthenticator(tokens);
  const basic = basicTokenAuthenticator(tokens);
  return (req) => bearer(req) ?? basic(req);
}

/** Reads a CA bundle for a flag (`readCaBundle`, or one that remembers what it read). */
export type CaReader = (file: string, flag: string) => CaBundle;

/** Builds the authenticators of a configuration, reading its files (errors: AuthConfigError). */
export function buildAuthenticators(config: AuthConfig, readCa: CaReader = readCaBundle): Authenticators {
  const chain: Authenticators['chain'][number][] = [];
  if (config.requestHeader !== undefined) {
    const ca = readCa(config.requestHeader.clientCaFile, '--requestheader-client-ca-file');
    chain.push({ name: 'front-proxy', authenticate: requestHeaderAuthenticator(config.requestHeader, ca) });
  }
  if (config.clientCaFile !== undefined) {
    const ca = readCa(config.clientCaFile, '--client-ca-file');
    chain.push({ name: 'client-cert', authenticate: clientCertAuthenticator(ca) });
  }
  if (config.tokenAuthFile !== undefined) {
    const tokens = loadTokenFile(config.tokenAuthFile);
    // Who the file lets in, for the start-up line: what each of them may do follows it.
    const names = [...new Set([...tokens.values()].map((u) => u.name))];
    const shown = names.length > 10 ? `${names.slice(0, 10).join(', ')}, ...` : names.join(', ');
    chain.push({
      name: `token (${names.length} ${names.length === 1 ? 'user' : 'users'}: ${shown})`,
      authenticate: tokenAuthenticator(tokens),
    });
  }
  // Last, as kube's delegating authenticator puts its token webhook after x509 (and kube-apiserver
  // after the token file): a token the file knows never leaves the server.
  if (config.tokenReview !== undefined) {
    const reviewer = new TokenReviewer(
      loadClusterConnection(
        config.tokenReview.kubeconfig,
        config.tokenReview.context,
        '--authentication-kubeconfig',
      ),
      config.tokenReview,
    );
    chain.push({
      name: `TokenReview via ${config.tokenReview.kubeconfig}`,
      authenticate: tokenReviewAuthenticator(reviewer),
    });
  }
  return { chain, anonymous: chain.length === 0 };
}

/** Adds `system:authenticated` unless the user is anonymous or already has it, as kube-apiserver. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.name === ANONYMOUS) return user;
  if (user.groups.includes(ALL_AUTHENTICATED) || user.groups.includes(ALL_UNAUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };
}

/**
 * Runs the chain on a request. Returns the user; throws AuthenticationError (answer 401) when no
 * authenticator accepted the request and anonymous requests are not allowed.
 */
export async function authenticateRequest(auth: Authenticators, req: IncomingMessage): Promise<UserInfo> {
  const reasons: string[] = [];
  for (const a of auth.chain) {
    let user: UserInfo | undefined;
    try {
      user = await a.authenticate(req);
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      reasons.push(err.message);
      continue;
    }
    if (user !== undefined) return withAuthenticatedGroup(user);
  }
  if (reasons.length === 0 && auth.anonymous) return ANONYMOUS_USER;
  throw new AuthenticationError(reasons.length > 0 ? reasons.join('; ') : 'no credentials');
}

/**
 * Options for `https.createServer`: the serving certificate and, when client certificates mean
 * something (`--client-ca-file`, `--requestheader-client-ca-file`), a request for one. TLS itself
 * accepts any certificate (`rejectUnauthorized: false`); the authenticators check it against the
 * right CA. `undefined` when the configuration serves plain HTTP.
 */
export function tlsOptions(config: AuthConfig, readCa: CaReader = readCaBundle): ServerOptions | undefined {
  if (config.tls === undefined) return undefined;
  const cert = readConfigFile(config.tls.certFile, '--tls-cert-file');
  const key = readConfigFile(config.tls.keyFile, '--tls-private-key-file');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new AuthConfigError(
      `--tls-cert-file ${config.tls.certFile} and --tls-private-key-file ${config.tls.keyFile}: ${(err as Error).message}`,
    );
  }
  const cas: string[] = [];
  if (config.clientCaFile !== undefined) cas.push(readCa(config.clientCaFile, '--client-ca-file').pem);
  if (config.requestHeader !== undefined) {
    cas.push(readCa(config.requestHeader.clientCaFile, '--requestheader-client-ca-file').pem);
  }
  if (cas.length === 0) return { cert, key };
  // `ca` here only names the acceptable issuers in the TLS CertificateRequest.
  return { cert, key, ca: cas, requestCert: true, rejectUnauthorized: false };
}
