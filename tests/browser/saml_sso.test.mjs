// Single sign-on in a real browser: an Owner points the demo organization at a live test
// identity provider (tests/saml/idp.py serve: pysaml2 signing with xmlsec1), and a person who
// has never used roster goes from roster's sign-in page ("Sign in with SSO" with their work
// email) through the IdP's own sign-in form and its signed Response to the Organization page,
// as the Administrator their IdP group makes them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { DEMO, api, freePort, launchBrowser, memberRow, signIn, scenario } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const PYTHON = process.env.ROSTER_SAML_PYTHON || path.join(root, '.venv-saml', 'bin', 'python');

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Starts the test IdP on a free port; resolves once it listens. */
async function startIdp() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PYTHON, [path.join(root, 'tests/saml/idp.py'), '--sso-url', `${url}/sso`, 'serve', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the test IdP did not start:\n${log}`)), 20_000);
    child.stdout.on('data', (d) => {
      log += d;
      if (log.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d) => (log += d));
    child.once('exit', (code) => reject(new Error(`the test IdP exited (${code}):\n${log}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

test('a newcomer chooses Sign in with SSO on the sign-in page and lands on the Organization page', { timeout: 90_000 },
  scenario(() => browser, 'saml sign in', {}, async ({ page, context, shot }) => {
    const idp = await startIdp();
    try {
      // The Owner sets SAML up with the IdP's metadata; demo.roster is the demo's verified domain.
      await signIn(page, DEMO.owner);
      const metadata = await (await fetch(`${idp.url}/metadata`)).text();
      await api(context, 'POST', '/api/saml/settings', {
        metadata_xml: metadata,
        domain: 'demo.roster',
        roles_groups: [['Administrator', 'IT Admins'], ['Annotator', 'Labelers']],
      });
      // A newcomer opens the page they want, is sent to the sign-in page, gives only their
      // work email and chooses single sign-on.
      await context.clearCookies();
      const email = 'nia.newcomer@demo.roster';
      await page.goto('/organization');
      await page.waitForURL((url) => url.pathname === '/user/login');
      await page.getByLabel('Email').fill(email);
      await shot('sign-in page');
      await Promise.all([
        page.waitForURL((url) => url.origin === idp.url, { timeout: 20_000 }),
        page.getByRole('button', { name: 'Sign in with SSO' }).click(),
      ]);
      // At the identity provider: its own sign-in form.
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Groups (comma-separated)').fill('IT Admins, Labelers');
      await shot('identity provider');
      await Promise.all([
        page.waitForURL((url) => url.pathname === '/organization', { timeout: 20_000 }),
        page.getByRole('button', { name: 'Sign in at the IdP' }).click(),
      ]);
      await shot('organization page');
      // They are an Administrator now, shown on the page they may open as one.
      const row = memberRow(page, email);
      await row.waitFor();
      assert.match(await row.innerText(), /Administrator/);
      const me = await api(context, 'GET', '/api/current-user/whoami');
      assert.equal(me.email, email);
      // The session acts in this organization only: it cannot read the person's API key.
      const cookies = await context.cookies();
      const csrf = cookies.find((c) => c.name === 'roster_csrf');
      const key = await context.request.get('/api/current-user/token', { headers: { 'X-CSRFToken': csrf.value } });
      assert.equal(key.status(), 403);
    } finally {
      idp.stop();
    }
  }));
