// Browser test harness: starts a seeded demo roster on a free localhost port, drives Debian's
// Chromium through playwright-core, and keeps the screenshots a person can look at afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const ROSTER_BIN =
  process.env.ROSTER_BIN || path.resolve(here, '..', '..', 'target', 'debug', 'roster');
export const SCREENSHOTS = path.resolve(process.env.ROSTER_SCREENSHOTS || path.join(here, 'screenshots'));
export const CHROMIUM = process.env.ROSTER_CHROMIUM || '/usr/bin/chromium';

export const REPO_ROOT = path.resolve(here, '..', '..');
// The test identity provider's Python (tests/saml/setup.sh installs it).
export const SAML_PYTHON = process.env.ROSTER_SAML_PYTHON || path.join(REPO_ROOT, '.venv-saml', 'bin', 'python');

export const PASSWORD = 'demo-password';
export const DEMO = {
  owner: 'owner@demo.roster',
  admin: 'ada.admin@demo.roster',
  manager: 'max.manager@demo.roster',
  reviewer: 'rita.reviewer@demo.roster',
  anna: 'anna.annotator@demo.roster',
  alan: 'alan.annotator@demo.roster',
  dora: 'dora.deactivated@demo.roster',
  pat: 'pat.pending@demo.roster',
};
// Each demo member's role as the demo seeds it.
export const DEMO_ROLES = {
  [DEMO.owner]: 'OW',
  [DEMO.admin]: 'AD',
  [DEMO.manager]: 'MA',
  [DEMO.reviewer]: 'RE',
  [DEMO.anna]: 'AN',
  [DEMO.alan]: 'AN',
  [DEMO.dora]: 'DI',
  [DEMO.pat]: 'NO',
};
export const ROLE_NAMES = {
  OW: 'Owner',
  AD: 'Administrator',
  MA: 'Manager',
  RE: 'Reviewer',
  AN: 'Annotator',
  NO: 'Not Activated',
  DI: 'Deactivated',
};

const live = new Set(); // servers still running, ended if the runner exits early
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `roster serve --demo` on a fresh data folder; resolves once /api/health answers 200. */
export async function startRoster() {
  if (!fs.existsSync(ROSTER_BIN)) {
    throw new Error(`roster binary not found at ${ROSTER_BIN} (build it with cargo build -p roster, or set ROSTER_BIN)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-browser-'));
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ROSTER_SECRET_KEY: 'browser-tests-secret-0123456789abcdefghij' };
  delete env.DATABASE_URL; // always the demo on SQLite
  const child = spawn(ROSTER_BIN, ['--data-dir', dataDir, 'serve', '--demo', '--bind', `127.0.0.1:${port}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let log = '';
  const keep = (chunk) => {
    log += chunk.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = null;
  exited.then((how) => {
    gone = how;
    live.delete(child);
  });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`roster exited before it was healthy (${JSON.stringify(gone)}):\n${log}`);
    try {
      const res = await fetch(`${baseURL}/api/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`roster did not answer GET /api/health with 200 within 30 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    baseURL,
    log: () => log,
    async stop() {
      if (!gone) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

export function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Removes the screenshots an earlier run of the test `name` left, so none of them is stale. */
function clearScreenshots(name) {
  if (!fs.existsSync(SCREENSHOTS)) return;
  const prefix = `${slug(name)}-`;
  for (const file of fs.readdirSync(SCREENSHOTS)) {
    if (file.startsWith(prefix) && file.endsWith('.png')) fs.rmSync(path.join(SCREENSHOTS, file));
  }
}

/** Saves a full-page PNG into the screenshot folder and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${slug(name)}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Retries `check` (which throws while the page is not there yet) until it passes or time runs out. */
export async function eventually(check, { timeout = 7_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * One browser scenario: its own demo server and browser context, a screenshot when it fails,
 * and a check that the page threw no uncaught script errors.
 * `body({ page, context, server, shot })` does the work; `shot(step)` saves `<test>-<step>.png`.
 * `javaScriptEnabled: false` opens the pages as a browser without script does.
 */
export function scenario(browserRef, name, { viewport = { width: 1280, height: 800 }, permissions = [], javaScriptEnabled = true } = {}, body) {
  return async (t) => {
    clearScreenshots(name);
    const server = await startRoster();
    const context = await browserRef().newContext({ baseURL: server.baseURL, viewport, javaScriptEnabled });
    if (permissions.length) await context.grantPermissions(permissions, { origin: server.baseURL });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    const page = await context.newPage();
    const scriptErrors = [];
    page.on('pageerror', (err) => scriptErrors.push(`${page.url()}: ${err.message}`));
    const shots = [];
    const shot = async (step, onPage = page) => {
      const file = await screenshot(onPage, `${name}-${step}`);
      shots.push(file);
      return file;
    };
    try {
      await body({ page, context, server, shot, t });
      assert.deepEqual(scriptErrors, [], 'uncaught script errors in the page');
    } catch (err) {
      try {
        const file = await shot('FAILED');
        t.diagnostic(`screenshot of the failure: ${file}`);
      } catch {
        // the page may be gone
      }
      t.diagnostic(`page at failure: ${page.url()}`);
      t.diagnostic('roster log (last lines):');
      for (const line of server.log().replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-12)) t.diagnostic(`  ${line}`);
      throw err;
    } finally {
      for (const file of shots) t.diagnostic(`screenshot: ${file}`);
      await context.close().catch(() => {});
      await server.stop();
    }
  };
}


/** Signs in through the login page and waits for the redirect to `/`. */
export async function signIn(page, email, password = PASSWORD) {
  await page.goto('/user/login');
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/'),
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ]);
}

/** The upper-left menu: opens `<details id="menu">` by clicking its summary and returns its nav. */
export async function openMenu(page) {
  const menu = page.locator('details#menu');
  await menu.locator(':scope > summary').click();
  await eventually(async () => assert.equal(await menu.evaluate((d) => d.open), true, 'details#menu is open'));
  return menu.locator('nav[aria-label="Main"]');
}

/** Calls the REST API with the browser context's session cookie and its CSRF token. */
export async function api(context, method, url, data) {
  const cookies = await context.cookies();
  const csrf = cookies.find((c) => c.name === 'roster_csrf');
  const res = await context.request.fetch(url, {
    method,
    data,
    headers: csrf ? { 'X-CSRFToken': csrf.value } : {},
  });
  const text = await res.text();
  if (!res.ok()) throw new Error(`${method} ${url} -> ${res.status()}: ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function organizationId(context) {
  const orgs = await api(context, 'GET', '/api/organizations/');
  return orgs[0].id;
}

// ---- the Organization page ---------------------------------------------------------------

export const memberRows = (page) => page.locator('#members tbody tr[data-user-id]');

/** The member row of `email` (each row names its member's email in data-email). */
export function memberRow(page, email) {
  return page.locator(`#members tbody tr[data-user-id][data-email="${email.replace(/["\\]/g, '\\$&')}"]`);
}

export const roleSelect = (page, email) => memberRow(page, email).locator('select.role-select');

export function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Emails of the member rows shown, in table order. */
export async function shownEmails(page) {
  return memberRows(page).evaluateAll((rows) => rows.map((r) => r.dataset.email));
}

export async function seatsText(page) {
  return (await page.locator('#seats').innerText()).replace(/\s+/g, ' ').trim();
}

export async function statusText(page) {
  return (await page.locator('#status').innerText()).replace(/\s+/g, ' ').trim();
}

/** Waits until the live region `#status` contains `expected` (string or RegExp); returns its text. */
export async function waitForStatus(page, expected, timeout = 7_000) {
  let last = '';
  try {
    await eventually(async () => {
      last = await statusText(page);
      if (expected instanceof RegExp) assert.match(last, expected);
      else assert.ok(last.includes(expected), `#status text ${JSON.stringify(last)} should contain ${JSON.stringify(expected)}`);
    }, { timeout });
  } catch (err) {
    throw new Error(`#status: expected ${expected instanceof RegExp ? expected : JSON.stringify(expected)}, actual ${JSON.stringify(last)}`, { cause: err });
  }
  return last;
}

/** The role select's value and the text of its selected option. */
export async function selected(select) {
  return select.evaluate((s) => ({ value: s.value, text: s.selectedOptions[0]?.textContent.trim() }));
}

/**
 * Declares a file's scenarios on one browser, launched before them and closed after them, and
 * returns `story(name, [options], body)`, which takes what `scenario` takes.
 */
export function storyteller({ timeout = 90_000 } = {}) {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  return function story(name, options, body) {
    if (typeof options === 'function') [options, body] = [{}, options];
    test(name, { timeout }, scenario(() => browser, name, options, body));
  };
}

// ---- settings pages ----------------------------------------------------------------------

/**
 * A settings page at `path`: the Owner reaches it from the Organization page's link named
 * `link`; a Manager gets the 403 page, without the page's editor.
 */
export async function adminsOnlySettingsPage(page, context, path, link, shot) {
  await signIn(page, DEMO.owner);
  await page.goto('/organization');
  await Promise.all([
    page.waitForURL((url) => url.pathname === path),
    page.locator('nav[aria-label="Organization settings"]').getByRole('link', { name: link }).click(),
  ]);
  await context.clearCookies();
  await signIn(page, DEMO.manager);
  const res = await page.goto(path);
  assert.equal(res.status(), 403);
  assert.match(await page.locator('body').innerText(), /Only Owners and Administrators can open/);
  assert.equal(await page.locator('#mapping-form').count(), 0);
  await shot('manager-forbidden');
}

/** Asserts that the page needs no sideways scrolling at its viewport's width. */
export async function assertNoSidewaysScroll(page) {
  const size = await page.evaluate(() => ({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.ok(size.scrollWidth <= size.innerWidth + 1, `no horizontal overflow at ${size.innerWidth} px: ${JSON.stringify(size)}`);
}

// ---- accessibility -----------------------------------------------------------------------

const AXE_SOURCE = path.join(here, 'node_modules', 'axe-core', 'axe.min.js');

/**
 * Runs axe-core on the page as it is and fails on every serious or critical violation, each
 * listed with its rule, its help text and the elements it found; `label` names the page.
 */
export async function assertAccessible(page, label) {
  const loaded = () => page.evaluate(() => typeof window.axe !== 'undefined');
  if (!(await loaded())) {
    const source = fs.readFileSync(AXE_SOURCE, 'utf8');
    // roster's Content-Security-Policy refuses inline scripts; where the tag is refused, the
    // same source is evaluated through the DevTools protocol, which the policy does not cover.
    await page.addScriptTag({ content: source }).catch(() => {});
    if (!(await loaded())) await page.evaluate(source);
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const listed = bad.map((v) => `  ${v.impact} ${v.id}: ${v.help}\n    at ${v.nodes.join('\n    at ')}`).join('\n');
  assert.deepEqual(bad.map((v) => v.id), [], `accessibility violations on ${label}:\n${listed}`);
}
