/**
 * @module Client certificate checks, done by kjournal itself rather than by the TLS layer: the server
 * trusts two CAs for different purposes (`--client-ca-file` for users, `--requestheader-client-ca-file`
 * for the front proxy), so TLS only asks for a certificate and this module decides which CA, if any,
 * signed it. Like Go's `x509.Certificate.Verify` as kube-apiserver calls it: the chain the client sent
 * may supply intermediates (which must be CAs), the root must be one of the file's certificates, every
 * certificate must be within its validity dates, and extended key usage, where present, must allow
 * client authentication.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { AuthConfigError, readConfigFile } from './errors.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
const MAX_DEPTH = 8;
const MAX_SIGNATURE_CHECKS = 100;

/** A CA bundle read from a file: the PEM text (for TLS) and the parsed certificates (for checks). */
export interface CaBundle {
  readonly file: string;
  readonly pem: string;
  readonly certs: readonly X509Certificate[];
}

/** Reads a PEM bundle; an unreadable file, or one without a valid certificate, is an AuthConfigError. */
export function readCaBundle(file: string, flag: string): CaBundle {
  const pem = readConfigFile(file, flag).toString('utf8');
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new AuthConfigError(`${flag} ${file}: no PEM certificate in the file`);
  const certs = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new AuthConfigError(
        `${flag} ${file}: certificate ${i + 1} is invalid: ${(err as Error).message}`,
      );
    }
  });
  return { file, pem, certs };
}

const chains = new WeakMap<TLSSocket, X509Certificate[]>();

/**
 * The certificates the peer sent, leaf first (the issuers Node attaches to each). Read once per
 * connection and kept: Node gives the intermediates only on the first call.
 */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const known = chains.get(socket);
  if (known !== undefined) return known;
  const chain: X509Certificate[] = [];
  let cert: X509Certificate | undefined = socket.getPeerX509Certificate?.();
  while (cert !== undefined && chain.length < MAX_DEPTH + 2) {
    if (chain.some((c) => c.fingerprint256 === cert!.fingerprint256)) break;
    chain.push(cert);
    cert = cert.issuerCertificate;
  }
  chains.set(socket, chain);
  return chain;
}

function timeError(cert: X509Certificate, now: Date): string | undefined {
  if (now < new Date(cert.validFrom))
    return `certificate ${subjectCn(cert)} is not valid before ${cert.validFrom}`;
  if (now > new Date(cert.validTo)) return `certificate ${subjectCn(cert)} expired at ${cert.validTo}`;
  return undefined;
}

function ekuAllowsClient(cert: X509Certificate): boolean {
  const eku = cert.keyUsage as string[] | undefined;
  return eku === undefined || eku.length === 0 || eku.includes(EKU_CLIENT_AUTH) || eku.includes(EKU_ANY);
}

function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Verifies `chain` (leaf first, as the client sent it) against `roots`. Returns undefined when a path
 * from the leaf to one of the roots exists, else the reason it does not.
 */
export function verifyChain(
  chain: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: Date = new Date(),
): string | undefined {
  const leaf = chain[0];
  if (leaf === undefined) return 'no client certificate';
  const intermediates = chain.slice(1).filter((c) => c.ca);
  let reason = `certificate ${subjectCn(leaf)} is signed by an unknown authority`;
  // Go's limit: a hostile chain must not make the server verify signatures without end.
  let budget = MAX_SIGNATURE_CHECKS;
  const signedBy = (issuer: X509Certificate, cert: X509Certificate): boolean => {
    if (budget <= 0) return false;
    budget--;
    return issued(issuer, cert);
  };
  const onPath = new Set<string>();
  const walk = (cert: X509Certificate, depth: number): boolean => {
    const bad = timeError(cert, now);
    if (bad !== undefined) {
      reason = bad;
      return false;
    }
    if (!ekuAllowsClient(cert)) {
      reason = `certificate ${subjectCn(cert)} is not for client authentication (extended key usage)`;
      return false;
    }
    for (const root of roots) {
      if (root.fingerprint256 === cert.fingerprint256 || signedBy(root, cert)) {
        const rootBad =
          timeError(root, now) ??
          (ekuAllowsClient(root) ? undefined : 'the CA is not for client authentication');
        if (rootBad === undefined) return true;
        reason = rootBad;
      }
    }
    if (depth >= MAX_DEPTH) return false;
    onPath.add(cert.fingerprint256);
    for (const next of intermediates) {
      if (!onPath.has(next.fingerprint256) && signedBy(next, cert) && walk(next, depth + 1)) return true;
    }
    onPath.delete(cert.fingerprint256);
    return false;
  };
  return walk(leaf, 0) ? undefined : reason;
}

/** The subject's common name ('' when there is none). */
export function subjectCn(cert: X509Certificate): string {
  return subjectValues(cert, 'CN')[0] ?? '';
}

/** Every value of one attribute of the subject (`O` gives the groups of a client certificate). */
export function subjectValues(cert: X509Certificate, attr: string): string[] {
  // Node prints the subject one attribute per line, `KEY=value`, multi-valued RDNs included.
  const out: string[] = [];
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq) === attr) out.push(unescapeDn(line.slice(eq + 1)));
  }
  return out;
}

function unescapeDn(value: string): string {
  // Node escapes special characters with a backslash in X509Certificate#subject (e.g. `\,`, `\+`).
  return value.replace(/\\(.)/g, '$1');
}
