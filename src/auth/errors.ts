/**
 * @module Errors of the auth module. Each carries one line: what is wrong and, for configuration,
 * which file (and line) says so.
 */
import { readFileSync } from 'node:fs';
import { CliError } from '../cli/errors.js';

/** A flag or file of the auth configuration is wrong; the server must not start. */
export class AuthConfigError extends CliError {}

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
