// The server renders the posts with their data, and the browser takes the page over:
// sign in through the form, read /posts, page through it client-side, sign out.

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

/** The id and title cells of the rows on screen. */
async function rows(page) {
  return page.$$eval('table.table tbody tr', (trs) =>
    trs.map((tr) => ({
      id: tr.querySelector('td.num')?.textContent?.trim() ?? '',
      title: tr.querySelector('td.title')?.textContent?.trim() ?? '',
    })),
  );
}

test('hydration', async () => {
  const { context, page, problems } = await newPage(browser);
  try {
    // Signed out, /posts redirects to the sign-in form (a server-side 302).
    await page.goto(`${BASE_URL}/posts`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await hydrated(page);

    // A wrong password is refused with a message, without leaving the page. Chromium logs
    // the 401 response as a console error: that one, and only that one, is expected.
    const before = problems.length;
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('.login .error');
    assert.match(await page.textContent('.login .error'), /wrong username or password/i);
    assert.equal(new URL(page.url()).pathname, '/login');
    if (SCREENSHOT_DIR) {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'login.png') });
    }
    const refused = problems.splice(before);
    assert.ok(
      refused.every((p) => /status of 401/.test(p)),
      `only the refused login is logged: ${JSON.stringify(refused)}`,
    );

    // The right one lands on the posts, signed in as alice.
    await page.fill('input[name=password]', 'demo');
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/posts');
    await page.waitForSelector('table.table tbody tr');
    assert.equal((await page.textContent('.topbar .user'))?.trim(), 'alice');

    const first = await rows(page);
    assert.equal(first.length, 10, 'ten posts a page');
    assert.ok(first.every((r) => r.title.length > 0), 'every row has a title');
    const ids = first.map((r) => Number(r.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest (highest id) first');

    // The server's own HTML for /posts already holds those titles (no client fetch needed).
    const ssr = await context.request.get(`${BASE_URL}/posts`);
    assert.equal(ssr.status(), 200);
    const html = await ssr.text();
    for (const { title } of first) {
      assert.ok(html.includes(escapeHtml(title)), `server HTML contains "${title}"`);
    }

    if (SCREENSHOT_DIR) {
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'posts.png'), fullPage: true });
    }

    // Hydrated: "Next" (a button, inert without the wasm) swaps the rows client-side and
    // puts the page in the URL; a full reload would lose this marker.
    await page.evaluate(() => {
      window.__heraldMarker = 'same document';
    });
    await page.click('.pager button[data-rel=next]');
    await page.waitForURL((url) => url.pathname === '/posts' && url.searchParams.get('page') === '2');
    await page.waitForFunction(
      (firstId) => document.querySelector('table.table tbody tr td.num')?.textContent?.trim() !== firstId,
      first[0].id,
    );
    const second = await rows(page);
    assert.ok(second.length > 0, 'page 2 has posts');
    assert.ok(Number(second[0].id) < Number(first.at(-1).id), 'page 2 continues after page 1');
    assert.equal(await page.evaluate(() => window.__heraldMarker), 'same document', 'no full reload');
    assert.match(await page.textContent('.page-info'), /Page 2 of/);

    // Back to page 1, still client-side.
    await page.click('.pager button[data-rel=prev]');
    await page.waitForFunction(
      (firstId) => document.querySelector('table.table tbody tr td.num')?.textContent?.trim() === firstId,
      first[0].id,
    );
    assert.equal(await page.evaluate(() => window.__heraldMarker), 'same document', 'no full reload');

    // Sign out: back on the form, and /posts is closed again.
    await page.click('.topbar button:has-text("Log out")');
    await page.waitForURL((url) => url.pathname === '/login');
    await page.goto(`${BASE_URL}/posts`);
    assert.equal(new URL(page.url()).pathname, '/login');

    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    await context.close();
  }
});

test('unknown pages are a 404 with the app page', async () => {
  const { context, page, problems } = await newPage(browser);
  try {
    const response = await page.goto(`${BASE_URL}/no/such/page`);
    assert.equal(response?.status(), 404);
    await page.waitForSelector('text=Page not found');
    // The 404 response itself is logged by Chromium; nothing else may be.
    assert.deepEqual(
      problems.filter((p) => !/status of 404/.test(p)),
      [],
      'no console errors besides the 404 itself',
    );
  } finally {
    await context.close();
  }
});

/** Text as it appears in server-rendered HTML. */
function escapeHtml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
