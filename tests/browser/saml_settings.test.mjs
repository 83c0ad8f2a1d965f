// The SAML settings page in a real browser: an Administrator opens it from the menu, copies the
// values the identity provider needs, pastes the identity provider's metadata (made by the test
// IdP, tests/saml/idp.py: pysaml2 with its own key), maps a group to a role, previews what the
// mapping gives and who would move, saves, and finally removes the settings.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  DEMO,
  REPO_ROOT,
  SAML_PYTHON,
  adminsOnlySettingsPage,
  api,
  assertNoSidewaysScroll,
  eventually,
  openMenu,
  selected,
  signIn,
  storyteller,
  waitForStatus,
} from './harness.mjs';

const story = storyteller();

/** The test identity provider's metadata, as `idp.py metadata` prints it. */
function idpMetadata() {
  return execFileSync(SAML_PYTHON, [path.join(REPO_ROOT, 'tests/saml/idp.py'), 'metadata'], { encoding: 'utf8' });
}

/** Presses a button that posts its form, and waits for the answer page. */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** Signs in as `email` and opens the SAML page from the upper-left menu. */
async function openSamlPage(page, email) {
  await signIn(page, email);
  await page.goto('/projects');
  const nav = await openMenu(page);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization/saml'),
    nav.getByRole('link', { name: 'Single sign-on (SAML)', exact: true }).click(),
  ]);
  await page.locator('h1', { hasText: 'Single sign-on (SAML)' }).waitFor();
}

story('an Administrator pastes the metadata, copies the values, maps a group, previews and saves', { permissions: ['clipboard-read', 'clipboard-write'] }, async ({ page, context, server, shot }) => {
  const metadata = idpMetadata();
  assert.match(metadata, /IDPSSODescriptor/, 'idp.py printed the metadata');
  await openSamlPage(page, DEMO.admin);
  assert.match(await page.locator('#no-idp').innerText(), /No identity provider yet/);
  await shot('fresh');

  // The values for the identity provider, each with its copy button.
  const settings = await api(context, 'GET', '/api/saml/settings');
  const sp = page.locator('section#service-provider');
  for (const [label, field] of [
    ['Copy entity ID', 'sp_entity_id'],
    ['Copy ACS URL', 'acs_url'],
    ['Copy sign-in URL', 'login_url'],
    ['Copy sign-out URL', 'logout_url'],
    ['Copy metadata URL', 'metadata_xml_url'],
  ]) {
    await sp.getByRole('button', { name: label, exact: true }).click();
    await eventually(async () => assert.equal(await page.evaluate(() => navigator.clipboard.readText()), settings[field], `clipboard after "${label}"`));
  }
  assert.ok(settings.acs_url.startsWith(`${server.baseURL}/saml/`), settings.acs_url);

  // Paste the identity provider's metadata: the page shows what it read.
  await page.getByRole('textbox', { name: "Paste the identity provider's metadata (XML)" }).fill(metadata);
  await submit(page, page.getByRole('button', { name: 'Save metadata', exact: true }));
  await waitForStatus(page, 'Saved the metadata of the identity provider https://idp.test/metadata.');
  assert.equal(await page.locator('#idp-entity-id').innerText(), 'https://idp.test/metadata');
  assert.equal(await page.locator('#idp-sso-url').innerText(), 'https://idp.test/sso');
  assert.equal(await page.locator('#idp-certificates li.certificate').count(), 1);
  assert.match(await page.locator('#idp-certificates').innerText(), /CN=.*expires \d{4}-\d\d-\d\d/);
  await shot('metadata-saved');

  // Map a group: IT Admins -> Administrator, with Annotator for people in no role group.
  const rows = page.locator('#role-groups tbody tr');
  assert.equal(await rows.count(), 0);
  await page.getByRole('button', { name: 'Add role group', exact: true }).click();
  await eventually(async () => assert.equal(await rows.count(), 1, 'a row is added in place'));
  await rows.first().getByRole('combobox', { name: 'Role' }).selectOption({ label: 'Administrator' });
  await rows.first().getByRole('textbox', { name: 'Group name' }).fill('IT Admins');
  await page.getByRole('combobox', { name: 'Fallback role (members in no role group)' }).selectOption({ label: 'Annotator' });
  await page.getByRole('textbox', { name: 'Groups of a person signing in for the first time, one per line' }).fill('Sales\nIT Admins');

  // Preview: nobody has signed in through the IdP yet; the person tried would be an Administrator.
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
  await waitForStatus(page, 'nothing has been saved yet');
  await page.locator('#no-moves').waitFor();
  assert.equal(await page.locator('#trial-outcome').innerText(), 'would join as Administrator');
  assert.equal((await api(context, 'GET', '/api/saml/settings')).roles_groups.length, 0, 'the preview saved nothing');
  await shot('preview');

  // Editing after the preview asks for a new one; then save what was previewed.
  const save = page.getByRole('button', { name: 'Save this mapping', exact: true });
  assert.equal(await save.isEnabled(), true);
  await page.getByRole('textbox', { name: 'Groups of a person signing in for the first time, one per line' }).fill('Sales');
  await eventually(async () => assert.equal(await save.isEnabled(), false, 'Save waits for a new preview'));
  await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
  assert.equal(await page.locator('#trial-outcome').innerText(), 'would join as Annotator', 'in no role group: the fallback');
  await submit(page, page.getByRole('button', { name: 'Save this mapping', exact: true }));
  await waitForStatus(page, 'Saved. 0 members move at their next sign-in.');
  const saved = await api(context, 'GET', '/api/saml/settings');
  assert.deepEqual(saved.roles_groups, [['Administrator', 'IT Admins']]);
  assert.equal(saved.fallback_role, 'Annotator');
  assert.equal(saved.idp_entity_id, 'https://idp.test/metadata');
  const shown = page.locator('#role-groups tbody tr');
  assert.equal(await shown.count(), 1);
  assert.equal(await shown.first().getByRole('textbox', { name: 'Group name' }).inputValue(), 'IT Admins');
  assert.equal((await selected(page.locator('#fallback-role'))).text, 'Annotator');
  await shot('saved');

  // Remove the settings, after the confirmation.
  page.once('dialog', (dialog) => dialog.accept());
  await submit(page, page.getByRole('button', { name: 'Remove SAML settings', exact: true }));
  await waitForStatus(page, 'SAML settings removed');
  assert.equal((await api(context, 'GET', '/api/saml/settings')).configured, false);
  await shot('removed');
});

story('refused metadata is explained in words and the pasted text stays for correction', async ({ page, shot }) => {
  await openSamlPage(page, DEMO.owner);
  await page.getByRole('textbox', { name: "Paste the identity provider's metadata (XML)" }).fill('<EntityDescriptor/>');
  await submit(page, page.getByRole('button', { name: 'Save metadata', exact: true }));
  assert.match(await page.locator('#problem').innerText(), /^Metadata: the metadata cannot be used/);
  assert.equal(await page.locator('#metadata-xml').inputValue(), '<EntityDescriptor/>');
  assert.equal(await page.locator('#no-idp').count(), 1, 'nothing was saved');
  await shot('refused');
});

story('the Organization page links to the SAML page; a Manager gets the 403 page', async ({ page, context, shot }) => {
  await adminsOnlySettingsPage(page, context, '/organization/saml', 'Single sign-on (SAML)', shot);
});

story('the SAML page fits a phone screen', { viewport: { width: 390, height: 844 } }, async ({ page, shot }) => {
  await signIn(page, DEMO.owner);
  await page.goto('/organization/saml');
  await page.getByRole('button', { name: 'Add role group', exact: true }).click();
  await page.getByRole('button', { name: 'Add project group', exact: true }).click();
  await assertNoSidewaysScroll(page);
  await shot('phone');
});
