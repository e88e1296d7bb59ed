// Shared setup for Herald's browser tests: where the app runs, how Chromium is launched,
// and a page that records every console error and uncaught exception.

import { chromium } from 'playwright-core';

/** The running Herald server (end2end/run.sh sets it; default: `cargo leptos watch`). */
export const BASE_URL = (process.env.HERALD_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');

/** Where to save screenshots, when set (e.g. HERALD_SCREENSHOTS=/tmp/shots). */
export const SCREENSHOT_DIR = process.env.HERALD_SCREENSHOTS ?? null;

/** Debian's Chromium: Playwright's own browser builds cannot be downloaded here. */
const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium. */
export function launch() {
  return chromium.launch({ executablePath: EXECUTABLE, args: ARGS, headless: true });
}

/**
 * A fresh page (own cookies) whose console errors and page errors are collected in
 * `problems`, so a test can assert that there were none.
 */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { context, page, problems };
}

/** Resolves once the app has hydrated (App sets data-hydrated in an effect). */
export function hydrated(page) {
  return page.waitForSelector('[data-hydrated="true"]', { state: 'attached' });
}
