/**
 * Request ids (api/http/request-id.ts) and route labels (api/http/router.ts routeLabel).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { newRequestId, requestId } from '../../../src/api/http/request-id.js';
import { routeLabel } from '../../../src/api/http/router.js';

const req = (id?: string) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as IncomingMessage;

test('a new id per request: 16 hex digits, none twice', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newRequestId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
});

test("a client's id is kept when it is short and of safe characters, else replaced", () => {
  for (const id of ['0f8fad5b-d9cb-469f-a165-70867728950e', 'edge:42', 'YWJj+/=', 'a'.repeat(128)])
    assert.equal(requestId(req(id)), id);
  for (const id of ['', 'a b', 'a"b', 'a\nb', 'é', 'a'.repeat(129), 'x=1 level=error'])
    assert.match(requestId(req(id)), /^[0-9a-f]{16}$/, JSON.stringify(id));
  assert.match(requestId(req()), /^[0-9a-f]{16}$/);
});

test("route labels as Loki's middleware makes them from the route's template", () => {
  assert.equal(routeLabel('/loki/api/v1/push'), 'loki_api_v1_push');
  assert.equal(routeLabel('/'), 'root');
  assert.equal(routeLabel('/ui/assets/{file}'), 'ui_assets_file');
  assert.equal(
    routeLabel('/apis/core.kjournal/v1alpha1/namespaces/{namespace}/containerlogs'),
    'apis_core_kjournal_v1alpha1_namespaces_namespace_containerlogs',
  );
  assert.equal(routeLabel('/api/prom/push'), 'api_prom_push');
});
