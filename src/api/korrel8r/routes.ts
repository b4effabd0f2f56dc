/**
 * @module korrel8r's log route: GET /api/v1/korrel8r/logs and the same under the group's path for
 * API aggregation, authorized as a log read (api/loki/read-access.ts), then queued for admission.
 */
import type { QueryAdmission } from '../../query/admission.js';
import { admitted } from '../http/admit.js';
import type { Router } from '../http/router.js';
import { GROUP_KORREL8R_PATH } from '../loki/aggregated.js';
import { logRead } from '../loki/read-access.js';
import { type Korrel8rLogsOptions, korrel8rErrorReply, korrel8rLogsHandler } from './logs.js';

export interface Korrel8rApiOptions extends Korrel8rLogsOptions {
  readonly admission: QueryAdmission;
  readonly queryTimeoutMs: number;
}

export function registerKorrel8rApi(router: Router, o: Korrel8rApiOptions): void {
  const { admission, ...opts } = o;
  const korrel8rLogs = logRead(admitted(admission, o.queryTimeoutMs, korrel8rLogsHandler(opts)));
  router
    .add(['GET'], '/api/v1/korrel8r/logs', korrel8rLogs, korrel8rErrorReply)
    .add(['GET'], GROUP_KORREL8R_PATH, korrel8rLogs, korrel8rErrorReply);
}
