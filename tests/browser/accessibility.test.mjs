// Every page a person reaches, checked with axe-core at desktop and phone widths (no serious or
// critical violation), and the Organization page's daily work done with the keyboard alone:
// filtering to the pending people, ticking one, activating them with the bulk action, and
// undoing a role change.
import assert from 'node:assert/strict';
import {
  DEMO,
  api,
  assertAccessible,
  eventually,
  organizationId,
  shownEmails,
  signIn,
  storyteller,
  waitForStatus,
} from './harness.mjs';

const story = storyteller();

/** The pages an Owner opens, with ids read from the demo through the API. */
async function ownerPages(context) {
  const org = await organizationId(context);
  const members = await api(context, 'GET', `/api/organizations/${org}/memberships?page_size=20`);
  const anna = members.results.find((m) => m.user.email === DEMO.anna).user.id;
  const projects = await api(context, 'GET', '/api/projects/');
  const workspaces = await api(context, 'GET', '/api/workspaces');
  const pages = [
    '/',
    '/organization',
    '/organization?role=NO',
    `/organization/members/${anna}`,
    `/organization/members/${anna}?confirm=delete`,
    '/audit',
    '/projects',
    '/workspaces',
    '/account',
    '/organization/scim',
    '/organization/saml',
  ];
  const project = (projects.results ?? projects)[0];
  if (project) pages.push(`/projects/${project.id}`);
  const workspace = (workspaces.results ?? workspaces)[0];
  if (workspace) pages.push(`/workspaces/${workspace.id}`);
  return pages;
}

for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
  story(`every page passes axe-core with no serious or critical violation (${label})`, { viewport: { width, height } }, async ({ page, context, shot }) => {
    for (const path of ['/user/login', '/user/signup', '/user/forgot-password']) {
      await page.goto(path);
      await assertAccessible(page, `${path} (${label})`);
    }
    await signIn(page, DEMO.owner);
    for (const path of await ownerPages(context)) {
      const res = await page.goto(path);
      assert.equal(res.status(), 200, `GET ${path}`);
      await assertAccessible(page, `${path} (${label})`);
    }
    // The Organization page as it is after a bulk action and a role change, notices shown.
    await page.goto('/organization?role=NO');
    await page.getByRole('checkbox', { name: `Select ${DEMO.pat}`, exact: true }).check();
    await page.locator('select#bulk-action').selectOption({ label: 'Make Reviewer' });
    await page.getByRole('button', { name: 'Apply to selected', exact: true }).click();
    await waitForStatus(page, /Make Reviewer: 1 changed/);
    await assertAccessible(page, `the Organization page after a bulk action (${label})`);
    await shot('after-bulk');
  });
}

story('the Organization page works by keyboard alone: filter, select, bulk-activate, undo', async ({ page, shot }) => {
  await signIn(page, DEMO.owner);
  await page.goto('/organization');
  await eventually(async () => assert.ok((await shownEmails(page)).length > 1));

  // The role filter: focused with Tab from the search box's neighbour, changed with the arrows.
  await page.locator('#role-filter').focus();
  for (let i = 0; i < 10 && (await page.locator('#role-filter').inputValue()) !== 'NO'; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await page.waitForURL((url) => url.searchParams.get('role') === 'NO');
  await eventually(async () => assert.deepEqual(await shownEmails(page), [DEMO.pat]));

  // Tab reaches the row's box; Space ticks it.
  const box = page.getByRole('checkbox', { name: `Select ${DEMO.pat}`, exact: true });
  for (let i = 0; i < 30 && !(await box.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await box.evaluate((el) => el === document.activeElement), true, 'Tab reaches the row\'s checkbox');
  await page.keyboard.press('Space');
  assert.equal(await box.isChecked(), true);

  // The bulk action: chosen with the arrows, applied with Enter.
  await page.locator('#bulk-action').focus();
  for (let i = 0; i < 10 && (await page.locator('#bulk-action').inputValue()) !== 'role:AN'; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await page.locator('#bulk-apply').focus();
  await page.keyboard.press('Enter');
  await waitForStatus(page, /Make Annotator: 1 changed/);
  await eventually(async () => assert.deepEqual(await shownEmails(page), []));
  assert.equal(await page.locator('#bulk-result').evaluate((el) => el === document.activeElement), true, 'the summary takes the focus');
  await shot('keyboard-bulk');

  // A role change from the row's drop-down, then Undo reached with Tab and pressed with Enter.
  await page.goto('/organization?role=AN');
  const select = page.getByRole('combobox', { name: `Role of ${DEMO.pat}`, exact: true });
  await select.focus();
  await page.keyboard.press('ArrowDown'); // Annotator -> Not Activated
  await waitForStatus(page, `${DEMO.pat} is now Not Activated`);
  const undo = page.locator('#status').getByRole('button', { name: 'Undo', exact: true });
  for (let i = 0; i < 60 && !(await undo.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Shift+Tab');
  }
  assert.equal(await undo.evaluate((el) => el === document.activeElement), true, 'Shift+Tab reaches Undo');
  await page.keyboard.press('Enter');
  await waitForStatus(page, `${DEMO.pat} is now Annotator`);
});
