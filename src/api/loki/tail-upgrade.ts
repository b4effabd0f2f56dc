/**
 * @module The Loki tail's WebSocket upgrade, once the gate let the request through: its path (Loki's,
 * LokiStack's, the group's, namespaced: api/loki/aggregated.ts) and its authorization as a read
 * (api/loki/read-access.ts), decided before the tail is opened.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Access } from '../../auth/index.js';
import type { UpgradeTarget } from '../http/dispatch.js';
import { trimTrailingSlash } from '../http/router.js';
import { tailRestriction } from './aggregated.js';
import { authorizeLogRead } from './read-access.js';
import type { TailServer } from './tail.js';

/** The tail as the dispatcher's upgrade target. */
export function tailUpgrade(tail: TailServer): UpgradeTarget {
  return {
    rejectNotFound: (socket) => tail.rejectNotFound(socket),
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, access: Access): void {
      const tailPath = tailRestriction(trimTrailingSlash(url.pathname));
      if (!tailPath) {
        tail.rejectNotFound(socket);
        return;
      }
      // The tail is a read like the others (api/loki/read-access.ts), decided before it is opened.
      authorizeLogRead(access, {
        verb: 'watch',
        params: url.searchParams,
        ...(tailPath.cls === undefined ? {} : { classRestriction: tailPath.cls }),
        ...(tailPath.restriction === undefined ? {} : { restriction: tailPath.restriction }),
      }).then(
        (confine) => {
          const restriction = [...(tailPath.restriction ?? []), ...confine];
          tail.upgrade(req, socket, head, url, restriction.length > 0 ? restriction : undefined);
        },
        (err: unknown) => tail.reject(socket, err),
      );
    },
  };
}
