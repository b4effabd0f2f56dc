/**
 * The web page against a TLS server with a token file and ABAC (issue 18): the page loads without a
 * token (its files hold no data), asks for one when the API answers 401, keeps it in sessionStorage
 * only, says when it is refused, and shows a user allowed one namespace exactly what the APIs allow:
 * that namespace's lines, a 403 for another, and the live tail over WebSocket with the token in
 * kube-apiserver's subprotocol.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { makePki, type Pki } from '../auth/pki.js';
import { abacPolicies, httpsCall, pushAs, startTlsServer } from '../helpers/auth-e2e.js';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

declare const document: {
  querySelector(s: string): { textContent: string | null } | null;
  querySelectorAll(s: string): { length: number };
};
declare const sessionStorage: { getItem(k: string): string | null };
declare const localStorage: { length: number };

const POLICY = abacPolicies([
  // alice: the container logs of shop, nothing else.
  { user: 'alice', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal', readonly: true },
  // admin: everything (pushes the tailed line).
  { user: 'admin', namespace: '*', resource: '*', apiGroup: '*' },
  { user: 'admin', nonResourcePath: '*' },
]);

describe('the web page with authentication', () => {
  let pki: Pki;
  let server: ServerProcess;
  let dir: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const t = BigInt(Date.now() - 120_000) * 1_000_000n;
  const range = { from: String(Date.now() - 600_000), to: String(Date.now()) };

  before(async () => {
    pki = makePki();
    dir = await mkdtemp(join(tmpdir(), 'kj-ui-auth-'));
    await writeFile(join(dir, 'tokens.csv'), 'alice-token,alice,1\nadmin-token,admin,2\n');
    await writeFile(join(dir, 'policy.jsonl'), POLICY);
    const open = await startServerProcess();
    const r = await pushJson(open.url, {
      streams: [
        { stream: { namespace: 'shop', pod: 'web-1', container: 'app' }, values: [[String(t), 'shop line']] },
        {
          stream: { namespace: 'bank', pod: 'vault-1', container: 'app' },
          values: [[String(t), 'bank line']],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    await open.stop();
    server = await startTlsServer(pki, open.dataDir, [
      '--token-auth-file',
      join(dir, 'tokens.csv'),
      '--authorization-policy-file',
      join(dir, 'policy.jsonl'),
    ]);
    browser = await launchBrowser();
    ({ page, errors } = await newPage(browser, { ignoreHTTPSErrors: true }));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('the page itself needs no token; the data does', async () => {
    const pageReply = await httpsCall(`${server.url}/`, pki.ca.cert);
    assert.equal(pageReply.status, 200);
    assert.match(pageReply.body, /<div id="app">/);
    const data = await httpsCall(`${server.url}/loki/api/v1/labels`, pki.ca.cert);
    assert.equal(data.status, 401);
  });

  test('the page asks for a token once, says when it is refused, and keeps it for the session', async () => {
    await page.goto(`${server.url}/ui/?${new URLSearchParams({ query: '{namespace="shop"}', ...range })}`);
    const dialog = page.locator('[data-testid=token-dialog]');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /none given yet/);
    await page.locator('[data-testid=token]').fill('wrong-token');
    await page.locator('[data-testid=sign-in]').click();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=token-dialog]')?.textContent?.includes('the token was refused'),
    );
    await page.locator('[data-testid=token]').fill('alice-token');
    await page.locator('[data-testid=sign-in]').click();
    await page.locator('[data-testid=line]').first().waitFor();
    assert.deepEqual(await page.locator('[data-testid=line] .msg').allTextContents(), ['shop line']);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('kjournal.token')), 'alice-token');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing kept beyond the session');
    // A reload keeps the session: no dialog.
    await page.reload();
    await page.locator('[data-testid=line]').first().waitFor();
    assert.equal(await dialog.count(), 0);
  });

  test('a user allowed one namespace sees it, and a 403 for another', async () => {
    await page.goto(`${server.url}/ui/?${new URLSearchParams({ query: '{namespace="bank"}', ...range })}`);
    const banner = page.locator('[data-testid=banner]');
    await banner.waitFor();
    assert.match(
      (await banner.textContent()) ?? '',
      /^Forbidden: .*cannot list resource "containerlogs".*"bank"/,
    );
    assert.equal(await page.locator('[data-testid=line]').count(), 0);
    // The namespaces of the whole cluster are not theirs to list: the pods view asks for one.
    await page.goto(`${server.url}/ui/?${new URLSearchParams({ view: 'pods', ...range })}`);
    await page.locator('.banner', { hasText: 'Forbidden' }).waitFor();
    await page.locator('.ns-input input').fill('shop');
    await page.locator('.ns-input button').click();
    await page.locator('[data-testid=pods] button.link', { hasText: 'web-1' }).waitFor();
    assert.deepEqual(await page.locator('[data-testid=pods] li > button.link').allTextContents(), ['web-1']);
    assert.deepEqual(errors, []);
  });

  test('the live tail carries the token over the WebSocket', async () => {
    await page.goto(
      `${server.url}/ui/?${new URLSearchParams({ view: 'tail', query: '{namespace="shop"}' })}`,
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid=tail-status]')?.textContent === 'live',
    );
    const r = await pushAs(server.url, pki.ca.cert, 'admin-token', [
      {
        stream: { namespace: 'shop', pod: 'web-1' },
        values: [[String(BigInt(Date.now()) * 1_000_000n), 'tailed over wss']],
      },
    ]);
    assert.equal(r.status, 204, r.body);
    await page.locator('[data-testid=line] .msg', { hasText: 'tailed over wss' }).waitFor();
    // Another namespace's tail is refused; the page asks the same query over HTTP why.
    await page.goto(
      `${server.url}/ui/?${new URLSearchParams({ view: 'tail', query: '{namespace="bank"}' })}`,
    );
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=tail-status]')?.textContent?.includes('Forbidden'),
    );
    assert.match(
      (await page.locator('[data-testid=tail-status]').textContent()) ?? '',
      /^the connection failed: Forbidden: .*cannot list resource "containerlogs".*"bank"/,
    );
    assert.equal(await page.locator('[data-testid=line]').count(), 0);
  });
});
