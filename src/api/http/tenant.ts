/**
 * @module The tenant of a request: `X-Scope-OrgID`, validated by Loki's (dskit's) tenant-ID rules.
 * Without the header every request belongs to one default tenant.
 */
import { badRequest } from './errors.js';

export const DEFAULT_TENANT = 'default';
const MAX_TENANT_LENGTH = 150;
const TENANT_CHARS = /^[A-Za-z0-9!\-_.*'()]+$/;

export function tenantOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return DEFAULT_TENANT;
  if (value.includes('|'))
    throw badRequest('multi-tenant queries are not supported: send one tenant in X-Scope-OrgID');
  if (value.length > MAX_TENANT_LENGTH) {
    throw badRequest(`tenant ID is too long: max ${MAX_TENANT_LENGTH} characters`);
  }
  if (value === '.' || value === '..') throw badRequest("tenant ID is '.' or '..'");
  if (!TENANT_CHARS.test(value)) {
    throw badRequest(
      `tenant ID '${value}' contains unsupported character; allowed are alphanumerics and !-_.*'()`,
    );
  }
  return value;
}
