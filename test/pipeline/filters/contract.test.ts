/**
 * Every filter type of the pipeline (FILTERS) passes the Filter contract (filter-contract.ts):
 * a driver per type, and a check that no type is left without one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_ATTR } from '../../../src/pipeline/filter.js';
import { FILTERS } from '../../../src/pipeline/filters/index.js';
import { event } from '../../audit/policy/events.js';
import { type FilterDriver, filterContract } from './filter-contract.js';
import { KATA_SEED_MESSAGE, rec } from './helpers.js';

const audit = (body: string) => rec({ labels: { kind: 'auditevent', class: 'audit' }, body });

const DRIVERS: Readonly<Record<string, FilterDriver>> = {
  parser: {
    options: { format: 'json' },
    changes: {
      records: [rec({ body: '{"level":"info","message":"hi"}' })],
      check([out]) {
        assert.equal(out?.body, 'hi');
        assert.equal(out?.attributes.level, 'info');
      },
    },
    unreadable: { record: rec({ body: 'not json' }), error: 'JSONParserErr' },
  },
  record: {
    options: { set: { env: 'prod' } },
    changes: {
      records: [rec({ body: 'b' })],
      check([out]) {
        assert.equal(out?.attributes.env, 'prod');
        assert.equal(out?.body, 'b');
      },
    },
  },
  grep: {
    options: { regexp: [{ key: 'body', pattern: 'keep' }] },
    untouched: rec({ body: 'keep me' }),
    changes: {
      records: [rec({ body: 'drop me' }), rec({ body: 'keep me' })],
      check([dropped, kept]) {
        assert.equal(dropped, null);
        assert.equal(kept?.body, 'keep me');
      },
    },
  },
  rewrite: {
    options: { keepUnmatched: true, rules: [{ key: 'body', pattern: '^(\\w+):', tag: '$1' }] },
    untouched: rec({ body: 'no tag here' }),
    changes: {
      records: [rec({ body: 'web: hello' })],
      check([out]) {
        assert.equal(out?.labels.route, 'web');
      },
    },
  },
  throttle: {
    options: { groupBucketLimit: 1, groupBucketPeriodSeconds: 60 },
    untouched: rec({ body: 'first' }),
    changes: {
      records: [rec({ body: 'first' }), rec({ body: 'second' })],
      check([first, second]) {
        assert.equal(first?.body, 'first');
        assert.equal(second, null);
      },
    },
  },
  dedupe: {
    options: {},
    untouched: rec({ body: 'once' }),
    changes: {
      records: [rec({ body: 'twice' }), rec({ body: 'twice' })],
      check([first, second]) {
        assert.equal(first?.body, 'twice');
        assert.equal(second, null);
      },
    },
  },
  kata: {
    options: {},
    changes: {
      records: [rec({ body: KATA_SEED_MESSAGE })],
      check([out]) {
        assert.equal(out?.attributes.kata_level, 'info');
        assert.equal(out?.body, KATA_SEED_MESSAGE);
      },
    },
    unreadable: { record: rec({ body: 'hello' }), error: 'KataParserErr' },
  },
  auditPolicy: {
    options: { policy: { rules: [{ level: 'None', verbs: ['get'] }, { level: 'Metadata' }] } },
    untouched: rec({ body: 'an application line' }),
    changes: {
      records: [
        audit(JSON.stringify(event({ verb: 'get', resource: 'pods', namespace: 'd' }))),
        audit(JSON.stringify(event({ verb: 'create', resource: 'pods', namespace: 'd', requestObject: {} }))),
      ],
      check([get, create]) {
        assert.equal(get, null);
        assert.equal(JSON.parse(create?.body ?? '{}').level, 'Metadata');
        assert.equal(create?.attributes[ERROR_ATTR], undefined);
      },
    },
    unreadable: { record: audit('not an audit event'), error: 'AuditPolicyErr' },
  },
};

test('every filter type has a contract driver', () => {
  assert.deepEqual(Object.keys(DRIVERS).sort(), Object.keys(FILTERS).sort());
});

for (const [type, driver] of Object.entries(DRIVERS)) {
  const factory = FILTERS[type];
  if (factory !== undefined) filterContract(type, factory, driver);
}
