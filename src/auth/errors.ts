/**
 * @module Errors of the auth module. Each carries one line: what is wrong and, for configuration,
 * which file (and line) says so.
 */
import { readFileSync } from 'node:fs';
import type { Attributes } from './types.js';

/**
 * A flag or file of the auth configuration is wrong; the server must not start. `usage` when the
 * flags contradict each other or miss a partner (the CLI's usage exit code), else `config`.
 */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
  readonly kind: 'usage' | 'config';

  constructor(message: string, kind: 'usage' | 'config' = 'config') {
    super(message);
    this.kind = kind;
  }
}

/** Reads the file a flag names; one that cannot be read is an AuthConfigError naming both. */
export function readConfigFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AuthConfigError(`${flag} ${file}: cannot read (${code === 'ENOENT' ? 'no such file' : code})`);
  }
}

/** The request's credentials were presented but are not valid: answer 401. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/** An authorizer could not decide (the cluster did not answer a SubjectAccessReview): answer 500. */
export class AuthorizationError extends Error {
  override readonly name = 'AuthorizationError';
}

/**
 * What kube-apiserver says when it refuses a request (apiserver's responsewriters.forbiddenMessage,
 * wrapped as apierrors.NewForbidden wraps it): `containerlogs.core.kjournal is forbidden: User "alice"
 * cannot list resource "containerlogs" in API group "core.kjournal" in the namespace "bank"`, or
 * `forbidden: User "alice" cannot get path "/metrics"`.
 */
export function forbiddenMessage(a: Attributes): string {
  const who = `User ${JSON.stringify(a.user.name)}`;
  if (!a.resourceRequest) return `forbidden: ${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const named = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  return `${named} is forbidden: ${who} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}

/**
 * The authorizer did not allow what the request asks (answer 403). Thrown by `Access.require`
 * (src/auth/access.ts) and turned into a 403 in each API's one error place: a `Forbidden` Status on
 * the Kubernetes API, plain text on Loki's.
 */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
  readonly code = 'forbidden';
  constructor(
    readonly attributes: Attributes,
    /** What the user could do instead, after kube-apiserver's words. */
    hint?: string,
  ) {
    super(hint === undefined ? forbiddenMessage(attributes) : `${forbiddenMessage(attributes)}: ${hint}`);
  }
}
