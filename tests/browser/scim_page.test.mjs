// The SCIM settings page in a real browser: the Owner connects an identity provider (base URL,
// token shown once), the identity provider provisions someone with that token, and the Owner
// maps a group to a role, previews who moves, saves, and sees the role on the Organization page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DEMO,
  adminsOnlySettingsPage,
  api,
  assertNoSidewaysScroll,
  eventually,
  launchBrowser,
  openMenu,
  organizationId,
  roleSelect,
  selected,
  signIn,
  scenario,
  waitForStatus,
} from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const TIMEOUT = 90_000;
function story(name, options, body) {
  if (typeof options === 'function') [options, body] = [{}, options];
  test(name, { timeout: TIMEOUT }, scenario(() => browser, name, options, body));
}

const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** The identity provider's side: a SCIM request from node with the organization's token. */
async function scim(baseURL, token, method, path, body) {
  const res = await fetch(`${baseURL}/scim/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json', Accept: 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

/** Signs in as `email` and opens the SCIM page from the upper-left menu. */
async function openScimPage(page, email) {
  await signIn(page, email);
  await page.goto('/projects');
  const nav = await openMenu(page);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization/scim'),
    nav.getByRole('link', { name: 'SCIM provisioning', exact: true }).click(),
  ]);
  await page.locator('h1', { hasText: 'SCIM provisioning' }).waitFor();
}

/** Presses a button that posts its form, and waits for the answer page. */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** The member's role code as the Organization API reads it (not the page). */
async function roleOf(context, email) {
  const org = await organizationId(context);
  const list = await api(context, 'GET', `/api/organizations/${org}/memberships?search=${encodeURIComponent(email)}`);
  return list.results.find((m) => m.user.email === email)?.role;
}

story('the Owner creates a token, maps a provisioned user\'s group, previews and saves', { permissions: ['clipboard-read', 'clipboard-write'] }, async ({ page, context, server, shot }) => {
  await openScimPage(page, DEMO.owner);
  const baseUrl = await page.locator('input#scim-base-url').inputValue();
  assert.equal(baseUrl, `${server.baseURL}/scim/v2`, 'the SCIM base URL to paste into the identity provider');
  assert.match(await page.locator('#token-state').innerText(), /no SCIM token yet/);
  await shot('before-token');

  // Create the token; the answer shows it once, with the warning.
  await submit(page, page.getByRole('button', { name: 'Create token', exact: true }));
  const token = await page.locator('input#new-token-value').inputValue();
  assert.match(token, /^scim_[\w-]{20,}$/, 'the new token is shown');
  assert.match(await page.locator('#new-token').innerText(), /will not be shown again/);
  assert.match(await page.locator('#token-state').innerText(), /has a SCIM token, made \d{4}-\d\d-\d\d/);
  assert.equal(await page.getByRole('button', { name: 'Rotate token', exact: true }).count(), 1, 'the button now rotates');
  await page.getByRole('button', { name: 'Copy token', exact: true }).click();
  await eventually(async () => assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, 'clipboard after "Copy token"'));
  await shot('token-created');

  // The identity provider provisions a person and puts them in a group.
  const email = 'sam.scim@demo.roster';
  const created = await scim(server.baseURL, token, 'POST', '/Users', {
    schemas: [SCIM_USER],
    userName: email,
    name: { givenName: 'Sam', familyName: 'Scim' },
    emails: [{ value: email, type: 'work', primary: true }],
    active: true,
  });
  assert.equal(created.status, 201, `POST /Users: ${created.text}`);
  const group = await scim(server.baseURL, token, 'POST', '/Groups', {
    schemas: [SCIM_GROUP],
    displayName: 'Labelers',
    members: [{ value: created.body.id }],
  });
  assert.equal(group.status, 201, `POST /Groups: ${group.text}`);
  const before = await roleOf(context, email);
  assert.equal(before, 'DI', 'in no mapped group, the newcomer has the fallback role (Deactivated)');

  // A reload does not show the token again.
  await page.goto('/organization/scim');
  assert.equal(await page.locator('#new-token').count(), 0, 'the token is not shown again');
  assert.ok(!(await page.content()).includes(token), 'the page holds the token nowhere');

  // Add a role-group row: Labelers -> Reviewer.
  const rows = page.locator('#role-groups tbody tr');
  const count = await rows.count();
  await page.getByRole('button', { name: 'Add role group', exact: true }).click();
  await eventually(async () => assert.equal(await rows.count(), count + 1, 'a row is added'));
  const row = rows.last();
  await row.getByRole('combobox', { name: 'Role' }).selectOption({ label: 'Reviewer' });
  await row.getByRole('textbox', { name: 'Group name' }).fill('Labelers');
  await shot('row-added');

  // Preview: Sam would move from Deactivated to Reviewer; nothing changes yet.
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
  const moves = page.locator('#moves tbody tr');
  await eventually(async () => assert.equal(await moves.count(), 1, 'one member would move'));
  assert.deepEqual(
    await moves.first().locator('td').allInnerTexts(),
    [email, 'Deactivated', 'Reviewer'],
    'the preview names who moves from which role to which',
  );
  await waitForStatus(page, 'nothing has been saved yet');
  assert.equal(await roleOf(context, email), 'DI', 'the preview changed nothing');
  await shot('preview');

  // Editing after the preview asks for a new one before Save.
  const save = page.getByRole('button', { name: 'Save this mapping', exact: true });
  assert.equal(await save.isEnabled(), true);
  await page.locator('#role-groups tbody tr').last().getByRole('textbox', { name: 'Group name' }).fill('Labelers');
  await eventually(async () => assert.equal(await save.isEnabled(), false, 'Save waits for a new preview'));
  assert.equal(await page.locator('#stale-preview').isVisible(), true);
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));

  // Save what was previewed.
  await submit(page, page.getByRole('button', { name: 'Save this mapping', exact: true }));
  await waitForStatus(page, 'Saved. 1 member moved.');
  assert.deepEqual(await page.locator('#moved tbody tr').first().locator('td').allInnerTexts(), [email, 'Deactivated', 'Reviewer']);
  const saved = page.locator('#role-groups tbody tr');
  assert.equal(await saved.count(), 1, 'the saved mapping has one role group');
  assert.equal(await saved.first().getByRole('textbox', { name: 'Group name' }).inputValue(), 'Labelers');
  assert.equal((await selected(saved.first().getByRole('combobox', { name: 'Role' }))).text, 'Reviewer');
  await shot('saved');

  // The Organization page shows the new role.
  await page.goto('/organization');
  await eventually(async () => assert.deepEqual(await selected(roleSelect(page, email)), { value: 'RE', text: 'Reviewer' }));
  await shot('organization');
});

story('the Organization page links to the SCIM page; a Manager gets the 403 page', async ({ page, context, shot }) => {
  await adminsOnlySettingsPage(page, context, '/organization/scim', 'SCIM provisioning', shot);
});

story('without script, the editor\'s buttons add and remove rows, preview and save', { javaScriptEnabled: false }, async ({ page, context, shot }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/organization/scim');
  const rows = page.locator('#role-groups tbody tr');
  assert.equal(await rows.count(), 0);
  await submit(page, page.getByRole('button', { name: 'Add role group', exact: true }));
  await submit(page, page.getByRole('button', { name: 'Add role group', exact: true }));
  assert.equal(await rows.count(), 2, 'each press adds a row, drawn by the server');
  await rows.nth(0).getByRole('textbox', { name: 'Group name' }).fill('Admins');
  await rows.nth(0).getByRole('combobox', { name: 'Role' }).selectOption({ label: 'Administrator' });
  await rows.nth(1).getByRole('textbox', { name: 'Group name' }).fill('Temporary');
  await submit(page, rows.nth(1).getByRole('button', { name: 'Remove' }));
  assert.equal(await rows.count(), 1, 'Remove drops its row');
  assert.equal(await rows.first().getByRole('textbox', { name: 'Group name' }).inputValue(), 'Admins', 'the other row keeps what was typed');

  // An Administrator may not raise the deprovisioning limit: the service's refusal, in words.
  await page.locator('#max-deprovision').fill('50');
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
  assert.match(await page.locator('#problem').innerText(), /Only the Owner may raise the deprovisioning limit/);
  assert.equal(await page.locator('#max-deprovision').inputValue(), '50', 'the refused form comes back as typed');
  await shot('admin-refused');

  await page.locator('#max-deprovision').fill('');
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
  await page.locator('#no-moves').waitFor();
  await submit(page, page.getByRole('button', { name: 'Save this mapping', exact: true }));
  await waitForStatus(page, 'Saved. 0 members moved.');
  const settings = await api(context, 'GET', '/api/scim/settings');
  assert.deepEqual(settings.roles_groups, [['Administrator', 'Admins']]);
});

story('the Owner maps a group to a workspace by its title and unticks manual workspace management', async ({ page, context, shot }) => {
  await signIn(page, DEMO.owner);
  await api(context, 'POST', '/api/workspaces/', { title: 'Browser Labeling' });
  await page.goto('/organization/scim');
  const rows = page.locator('#workspace-groups tbody tr');
  const count = await rows.count();
  await page.getByRole('button', { name: 'Add workspace group', exact: true }).click();
  await eventually(async () => assert.equal(await rows.count(), count + 1, 'a workspace row is added'));
  const row = rows.last();
  await row.getByRole('combobox', { name: 'Workspace' }).selectOption({ label: 'Browser Labeling' });
  await row.getByRole('textbox', { name: 'Group name' }).fill('Labelers');
  await page.getByRole('checkbox', { name: /remove workspace memberships/ }).uncheck();
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
  await page.locator('#no-workspace-moves').waitFor();
  await waitForStatus(page, 'nothing has been saved yet');
  await shot('workspace-preview');
  await submit(page, page.getByRole('button', { name: 'Save this mapping', exact: true }));
  await waitForStatus(page, 'Saved.');
  const settings = await api(context, 'GET', '/api/scim/settings');
  assert.deepEqual(settings.workspaces_groups, [['Browser Labeling', 'Labelers']]);
  assert.equal(settings.manual_workspace_management, false, 'the unticked box was saved');
  assert.equal(settings.manual_role_management, true);
  assert.equal(await page.getByRole('checkbox', { name: /remove workspace memberships/ }).isChecked(), false);
  assert.equal((await selected(page.locator('#workspace-groups tbody tr').first().getByRole('combobox', { name: 'Workspace' }))).text, 'Browser Labeling');
  await shot('workspace-saved');
});

story('the SCIM page fits a phone screen', { viewport: { width: 390, height: 844 } }, async ({ page, shot }) => {
  await signIn(page, DEMO.owner);
  await page.goto('/organization/scim');
  await page.getByRole('button', { name: 'Add role group', exact: true }).click();
  await page.getByRole('button', { name: 'Add project group', exact: true }).click();
  await api(page.context(), 'POST', '/api/workspaces/', { title: 'Phone Workspace' });
  await page.goto('/organization/scim');
  await page.getByRole('button', { name: 'Add workspace group', exact: true }).click();
  await assertNoSidewaysScroll(page);
  await shot('phone');
});

story('the Owner adds a domain and sees the TXT record to publish; an Administrator only sees it', { permissions: ['clipboard-read', 'clipboard-write'] }, async ({ page, context, shot }) => {
  await openScimPage(page, DEMO.owner);
  const section = page.locator('section#domains');
  // The demo organization's own domain is verified (as `roster serve --demo` sets it up).
  assert.match(await section.locator('#domain-list').innerText(), /demo\.roster/);
  await section.getByRole('textbox', { name: 'Add a domain' }).fill('Labels.Example');
  await submit(page, section.getByRole('button', { name: 'Add domain', exact: true }));
  await waitForStatus(page, 'Publish the TXT record shown below in the DNS of labels.example');
  const claim = page.locator('#domains .claim[data-domain="labels.example"]');
  const name = await claim.getByRole('textbox', { name: 'TXT record name' }).inputValue();
  const value = await claim.getByRole('textbox', { name: 'TXT record value' }).inputValue();
  assert.equal(name, '_roster-verification.labels.example');
  assert.match(value, /^roster-domain-verification=[\w-]{30,}$/);
  await claim.getByRole('button', { name: 'Copy value', exact: true }).click();
  await eventually(async () => assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value, 'clipboard after "Copy value"'));
  assert.equal(await claim.getByRole('button', { name: 'Check now', exact: true }).count(), 1);
  const org = await organizationId(context);
  const listed = await api(context, 'GET', `/api/organizations/${org}/domains`);
  assert.deepEqual(listed.pending.map((c) => [c.domain, c.record_name, c.record_value]), [['labels.example', name, value]]);
  await shot('domain-claimed');

  await context.clearCookies();
  await signIn(page, DEMO.admin);
  await page.goto('/organization/scim');
  const seen = page.locator('#domains .claim[data-domain="labels.example"]');
  assert.equal(await seen.getByRole('textbox', { name: 'TXT record value' }).inputValue(), value, 'an Administrator sees the record');
  assert.equal(await seen.getByRole('button', { name: 'Check now' }).count(), 0, 'but cannot check it');
  assert.equal(await page.locator('#domain-form').count(), 0, 'nor add a domain');
  assert.match(await page.locator('#domains-owner-only').innerText(), /Only the Owner/);
  await shot('domains-read-only');
});
