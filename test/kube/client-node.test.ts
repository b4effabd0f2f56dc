/**
 * The official JavaScript client (@kubernetes/client-node) against the real `kjournal serve`:
 * paging with limit and continue over many records that share one timestamp (no skips, no repeats),
 * and an informer (list, then watch from the list's resourceVersion) seeing a newly pushed record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CustomObjectsApi,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from '@kubernetes/client-node';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { nsNow } from './helpers.js';

type ContainerLog = KubernetesObject & { pod: string; payload: unknown };

const GROUP = 'core.kjournal';
const VERSION = 'v1alpha1';

describe('@kubernetes/client-node against core.kjournal', () => {
  let srv: ServerProcess;
  let kc: KubeConfig;
  let api: CustomObjectsApi;

  before(async () => {
    srv = await startServerProcess();
    kc = new KubeConfig();
    // The client refuses plain HTTP unless TLS verification is off (there is no TLS to verify).
    kc.loadFromOptions({
      clusters: [{ name: 'kjournal', server: srv.url, skipTLSVerify: true }],
      users: [{ name: 'tester' }],
      contexts: [{ name: 'kjournal', cluster: 'kjournal', user: 'tester' }],
      currentContext: 'kjournal',
    });
    api = kc.makeApiClient(CustomObjectsApi);
  });

  after(async () => {
    await srv?.stop();
    if (srv) await removeDir(srv.dataDir);
  });

  test('limit and continue page through 450 records of one timestamp without skips or repeats', async () => {
    const ts = String(nsNow() - 60_000_000_000n);
    const values = Array.from({ length: 450 }, (_, i) => [ts, `record ${i}`]);
    const r = await pushJson(srv.url, {
      streams: [
        { stream: { kind: 'containerlog', namespace: 'paging', pod: 'p-1', container: 'app' }, values },
      ],
    });
    assert.equal(r.status, 204, r.text);
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = (await api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: 'paging',
        plural: 'containerlogs',
        limit: 64,
        ...(cont ? { _continue: cont } : {}),
      })) as KubernetesListObject<ContainerLog>;
      assert.ok(page.items.length <= 64);
      seen.push(...page.items.map((o) => String(o.payload)));
      // Custom objects come back as plain JSON: the field is `continue`, not the typed `_continue`.
      cont = (page.metadata as { continue?: string } | undefined)?.continue;
      pages++;
    } while (cont);
    assert.equal(pages, Math.ceil(450 / 64));
    assert.equal(seen.length, 450);
    assert.equal(new Set(seen).size, 450);
    assert.deepEqual(
      seen,
      values.map((v) => v[1]),
    );
    await assert.rejects(
      api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: 'paging',
        plural: 'containerlogs',
        _continue: 'not-a-token',
      }),
      (err: unknown) => (err as { code?: number }).code === 400,
    );
  });

  test('an informer lists, then sees a record pushed afterwards', async () => {
    const push = async (text: string) => {
      const r = await pushJson(srv.url, {
        streams: [
          {
            stream: { kind: 'containerlog', namespace: 'informer', pod: 'i-1', container: 'app' },
            values: [[String(nsNow()), text]],
          },
        ],
      });
      assert.equal(r.status, 204, r.text);
    };
    await push('before the informer');
    const informer = makeInformer<ContainerLog>(
      kc,
      `/apis/${GROUP}/${VERSION}/namespaces/informer/containerlogs`,
      async () =>
        (await api.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: 'informer',
          plural: 'containerlogs',
        })) as KubernetesListObject<ContainerLog>,
    );
    const added: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => added.push(String(o.payload)));
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      const until = async (pred: () => boolean, what: string) => {
        const deadline = Date.now() + 5_000;
        while (!pred()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${added} ${errors}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await until(() => added.includes('before the informer'), 'the list');
      // Let the watch connect, then push.
      await new Promise((r) => setTimeout(r, 300));
      await push('after the informer started');
      await until(() => added.includes('after the informer started'), 'the watched record');
      assert.deepEqual(added, ['before the informer', 'after the informer started']);
      assert.equal(informer.list('informer').length, 2);
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });
});
