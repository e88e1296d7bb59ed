// Live across tabs and users: Alice (two tabs) and Bob (another browser context) work at
// once and every screen stays current without a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE_URL, SCREENSHOT_DIR, launch, newPage, hydrated } from './support.js';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const WAIT = { timeout: 10_000 };

/** Saves a screenshot when HERALD_SCREENSHOTS is set. */
async function shot(page, name) {
  if (SCREENSHOT_DIR) await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** A signed-in page for `user` (session cookie set through the API), opened at `where`. */
async function signedIn(user, where = '/posts') {
  const tab = await newPage(browser);
  const res = await tab.context.request.post(`${BASE_URL}/api/auth/login`, { data: { username: user, password: 'demo' } });
  assert.equal(res.status(), 200);
  await tab.page.goto(`${BASE_URL}${where}`);
  await hydrated(tab.page);
  await tab.page.waitForSelector('[data-testid=connection]:has-text("online")', WAIT);
  return tab;
}

/** Another tab in the same browser context (same session). */
async function secondTab(tab, where) {
  const page = await tab.context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${BASE_URL}${where}`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=connection]:has-text("online")', WAIT);
  return { context: tab.context, page, problems };
}

/** REST through a context's session, as another client would write. */
async function api(tab, method, url, data) {
  const res = await tab.context.request.fetch(`${BASE_URL}/api${url}`, { method, data });
  assert.ok(res.ok(), `${method} ${url}: ${res.status()}`);
  return res.json();
}

function titles(page) {
  return page.$$eval('table.table tbody tr td.title', (tds) => tds.map((td) => td.textContent.trim()));
}

async function waitForTitle(page, title, present = true) {
  await page.waitForFunction(
    ([t, want]) => [...document.querySelectorAll('table.table tbody td.title')].some((td) => td.textContent.trim() === t) === want,
    [title, present],
    WAIT,
  );
}

function noProblems(...tabs) {
  for (const t of tabs) assert.deepEqual(t.problems, [], 'no console errors');
}

test('create, edit and delete in one tab appear in the others without a reload', async () => {
  const alice1 = await signedIn('alice');
  const alice2 = await secondTab(alice1, '/posts');
  const bob = await signedIn('bob');
  for (const t of [alice2, bob]) await t.page.evaluate(() => (window.__marker = 'same document'));

  // create through the form
  await alice1.page.goto(`${BASE_URL}/posts/create`);
  await hydrated(alice1.page);
  await alice1.page.fill('#title', 'Live from tab one');
  await alice1.page.click('button[type=submit]');
  await alice1.page.waitForURL(/\/posts\/\d+$/, WAIT);
  const id = Number(new URL(alice1.page.url()).pathname.split('/').pop());
  await waitForTitle(alice2.page, 'Live from tab one');
  await waitForTitle(bob.page, 'Live from tab one');

  // edit (Bob, through the API like any other client)
  await api(bob, 'PATCH', `/posts/${id}`, { title: 'Edited by Bob' });
  await waitForTitle(alice2.page, 'Edited by Bob');
  await alice1.page.waitForSelector('[data-testid=post-title]:has-text("Edited by Bob")', WAIT);

  // delete
  await api(bob, 'DELETE', `/posts/${id}`);
  await waitForTitle(alice2.page, 'Edited by Bob', false);
  for (const t of [alice2, bob]) assert.equal(await t.page.evaluate(() => window.__marker), 'same document');
  await shot(alice2.page, 'posts-live');
  noProblems(alice1, alice2, bob);
  await alice1.context.close();
  await bob.context.close();
});

test('manual mode counts changes and Refresh applies them', async () => {
  const alice = await signedIn('alice');
  const bob = await signedIn('bob');
  await alice.page.check('.switch input');
  await alice.page.waitForSelector('table.table tbody tr', WAIT);
  const before = await titles(alice.page);
  await api(bob, 'POST', '/posts', { title: 'Manual one' });
  await api(bob, 'POST', '/posts', { title: 'Manual two' });
  await alice.page.waitForSelector('[data-testid=changes-banner]:has-text("2 new changes")', WAIT);
  await shot(alice.page, 'manual-mode');
  assert.deepEqual(await titles(alice.page), before, 'nothing applied yet');
  await alice.page.click('[data-testid=changes-banner] button:has-text("Refresh")');
  await waitForTitle(alice.page, 'Manual two');
  assert.equal(await alice.page.$('[data-testid=changes-banner]'), null);
  noProblems(alice, bob);
  await alice.context.close();
  await bob.context.close();
});

test('edit conflicts: the banner, and the 409 path', async () => {
  const alice = await signedIn('alice', '/posts/3/edit');
  const bob = await signedIn('bob');
  await alice.page.waitForSelector('#title', WAIT);
  await alice.page.fill('#title', 'Alice was here');
  // Bob saves first: Alice is told, and keeps her text
  await api(bob, 'PATCH', '/posts/3', { title: 'Bob was faster' });
  await alice.page.waitForSelector('[data-testid=conflict-banner]:has-text("Updated by bob")', WAIT);
  await shot(alice.page, 'edit-conflict');
  assert.equal(await alice.page.inputValue('#title'), 'Alice was here');
  // saving her stale version → 409 → the same choice
  await api(bob, 'PATCH', '/posts/3', { title: 'Bob again' });
  await alice.page.click('[data-testid=conflict-banner] button:has-text("Keep my changes")');
  await api(bob, 'PATCH', '/posts/3', { title: 'Bob a third time' });
  await alice.page.click('button[type=submit]');
  await alice.page.waitForSelector('[data-testid=conflict-banner]:has-text("newer version")', WAIT);
  await alice.page.click('[data-testid=conflict-banner] button:has-text("Load latest")');
  assert.equal(await alice.page.inputValue('#title'), 'Bob a third time');
  await alice.page.fill('#title', 'Alice, on the latest');
  await alice.page.click('button[type=submit]');
  await alice.page.waitForURL(/\/posts\/3$/, WAIT);
  await alice.page.waitForSelector('[data-testid=post-title]:has-text("Alice, on the latest")', WAIT);
  // server validation lands on the field
  await alice.page.goto(`${BASE_URL}/posts/create`);
  await hydrated(alice.page);
  await alice.page.click('button[type=submit]');
  await alice.page.waitForSelector('[data-testid=error-title]', WAIT);
  noProblems(bob);
  await alice.context.close();
  await bob.context.close();
});

test('typing indicator and presence, including a tab being closed', async () => {
  const alice1 = await signedIn('alice', '/posts/2');
  const bob = await signedIn('bob', '/posts/2');
  const viewing = (p) => p.textContent('[data-testid=presence-viewing] .presence-label');
  await bob.page.waitForFunction(() => document.querySelector('[data-testid=presence-viewing] .presence-label')?.textContent.includes('2'), null, WAIT);
  const alice2 = await secondTab(alice1, '/posts/2');
  await alice2.page.waitForFunction(() => document.querySelector('[data-testid=presence-viewing] .presence-label')?.textContent.includes('2'), null, WAIT);
  assert.match(await viewing(bob.page), /2/, 'a second tab of alice does not count twice');
  await bob.page.type('#comment', 'Hello there');
  await alice1.page.waitForSelector('[data-testid=typing]:has-text("bob is typing")', WAIT);
  await shot(alice1.page, 'post-typing-presence');
  assert.equal((await bob.page.textContent('[data-testid=typing]')).trim(), '', 'nobody sees themselves typing');
  await alice1.page.waitForFunction(() => !document.querySelector('[data-testid=typing]').textContent.includes('bob'), null, { timeout: 15_000 });
  await alice2.page.close();
  await alice1.page.close();
  await bob.page.waitForFunction(() => document.querySelector('[data-testid=presence-viewing] .presence-label')?.textContent.includes('1'), null, WAIT);
  noProblems(bob);
  await alice1.context.close();
  await bob.context.close();
});

test('a comment notifies the post author', async () => {
  // post 1 is alice's (seed)
  const alice = await signedIn('alice');
  const bob = await signedIn('bob', '/posts/1');
  await bob.page.fill('#comment', 'Nice post, alice');
  await bob.page.click('.comment-box button[type=submit]');
  await bob.page.waitForSelector('[data-testid=comments] li:has-text("Nice post, alice")', WAIT);
  await alice.page.waitForSelector('[data-testid=unread]:has-text("1")', WAIT);
  await alice.page.click('.bell button.icon');
  await alice.page.waitForSelector('.bell li:has-text("bob commented")', WAIT);
  await shot(alice.page, 'notifications');
  await alice.page.click('.bell button:has-text("Mark all read")');
  await alice.page.waitForSelector('[data-testid=unread]:has-text("0")', WAIT);
  noProblems(alice, bob);
  await alice.context.close();
  await bob.context.close();
});

test('offline: the badge shows it, writes pause, and everything catches up on reconnect', async () => {
  const alice = await signedIn('alice');
  const bob = await signedIn('bob');
  await alice.context.setOffline(true);
  await alice.page.waitForSelector('[data-testid=connection]:has-text("offline")', WAIT);
  assert.ok(await alice.page.isDisabled('table.table tbody tr button.danger'), 'writes are disabled offline');
  assert.ok((await titles(alice.page)).length > 0, 'the last data stays visible');
  await shot(alice.page, 'offline');
  await api(bob, 'POST', '/posts', { title: 'Written while alice was offline' });
  await alice.context.setOffline(false);
  await alice.page.waitForSelector('[data-testid=connection]:has-text("online")', { timeout: 20_000 });
  await waitForTitle(alice.page, 'Written while alice was offline');
  await alice.context.close();
  await bob.context.close();
});

test('a server restart: reconnecting, then online, and what was written meanwhile appears', async (t) => {
  const pidfile = process.env.HERALD_SERVER_PIDFILE;
  if (!pidfile) {
    t.skip('needs end2end/run.sh (HERALD_SERVER_PIDFILE) to restart the server');
    return;
  }
  const alice = await signedIn('alice');
  const bob = await signedIn('bob');
  const { readFileSync } = await import('node:fs');
  const before = readFileSync(pidfile, 'utf8').trim();
  process.kill(Number(before), 'SIGTERM');
  await alice.page.waitForSelector('[data-testid=connection]:has-text("reconnecting")', WAIT);
  // run.sh starts the server again on the same database; write as soon as it answers.
  for (let i = 0; i < 100; i++) {
    const now = readFileSync(pidfile, 'utf8').trim();
    const up = now !== before && (await bob.context.request.get(`${BASE_URL}/api/auth/me`).then((r) => r.ok(), () => false));
    if (up) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await api(bob, 'POST', '/posts', { title: 'Written during the restart' });
  await alice.page.waitForSelector('[data-testid=connection]:has-text("online")', { timeout: 30_000 });
  await waitForTitle(alice.page, 'Written during the restart');
  await alice.context.close();
  await bob.context.close();
});
