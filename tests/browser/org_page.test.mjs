// The user story of seed/ ("Manage user accounts") walked through in a real browser: an Owner
// opens Organization from the upper-left menu, finds pending users with the role filter,
// activates, deactivates, reactivates and deletes members, and sees refusals in words.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DEMO,
  DEMO_ROLES,
  ROLE_NAMES,
  api,
  escape,
  eventually,
  launchBrowser,
  memberRow,
  memberRows,
  openMenu,
  organizationId,
  roleSelect,
  seatsText,
  selected,
  shownEmails,
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

/**
 * Signs in as the Owner and opens the Organization page from the menu, as the seed says. The
 * menu is opened on /projects, so that only the first test depends on the page at `/`.
 */
async function ownerOnOrganizationPage(page) {
  await signIn(page, DEMO.owner);
  await page.goto('/projects');
  const nav = await openMenu(page);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization'),
    nav.getByRole('link', { name: 'Organization', exact: true }).click(),
  ]);
  await page.locator('#members tbody tr[data-user-id]').first().waitFor();
}

/** Chooses `role` in the member's role drop-down; the page applies it with no further click. */
async function chooseRole(page, email, role) {
  const select = roleSelect(page, email);
  assert.equal(await select.count(), 1, `one select.role-select in the row of ${email}`);
  await select.selectOption(role);
}

async function expectRole(page, email, role) {
  await eventually(async () => {
    assert.deepEqual(await selected(roleSelect(page, email)), { value: role, text: ROLE_NAMES[role] }, `role select of ${email}`);
  });
}

async function expectSeats(page, pattern) {
  let text = '';
  try {
    await eventually(async () => {
      text = await seatsText(page);
      assert.match(text, pattern);
    });
  } catch (err) {
    throw new Error(`#seats: expected ${pattern}, actual ${JSON.stringify(text)}`, { cause: err });
  }
  return text;
}

async function reloadOrganization(page) {
  await page.reload();
  await page.locator('#members tbody tr[data-user-id]').first().waitFor();
}

story('owner opens Organization from the upper-left menu and sees every member with their role', async ({ page, shot }) => {
  await signIn(page, DEMO.owner);
  const landing = await page.reload();
  assert.equal(landing.status(), 200, 'GET / after signing in');
  assert.equal(await page.locator('details#menu > summary').innerText(), 'Menu', 'the page after sign-in (/) has the upper-left menu');
  const nav = await openMenu(page);
  await shot('menu-open');
  const links = await nav.getByRole('link').evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')]));
  for (const [text, href] of [['Projects', '/projects'], ['Organization', '/organization'], ['Audit log', '/audit']]) {
    assert.ok(
      links.some(([t, h]) => t === text && h === href),
      `menu link ${JSON.stringify(text)} -> ${href}; links shown: ${JSON.stringify(links)}`,
    );
  }
  assert.equal(await page.locator('details#menu').getByRole('button', { name: 'Sign out', exact: true }).count(), 1, 'menu has a "Sign out" button');

  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization'),
    nav.getByRole('link', { name: 'Organization', exact: true }).click(),
  ]);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Organization');
  await memberRows(page).first().waitFor();
  await expectSeats(page, /^6 seats in use \(no limit\)$/);

  const emails = await shownEmails(page);
  assert.deepEqual([...emails].sort(), Object.keys(DEMO_ROLES).sort(), 'member rows (email cells)');
  for (const [email, role] of Object.entries(DEMO_ROLES)) {
    const row = memberRow(page, email);
    const id = await row.getAttribute('data-user-id');
    assert.match(id, /^\d+$/, `data-user-id of ${email}`);
    const nameLink = row.locator('td.person a');
    assert.equal(await nameLink.getAttribute('href'), `/organization/members/${id}`, `name link of ${email}`);
    assert.notEqual((await nameLink.innerText()).trim(), '', `name link text of ${email}`);
    assert.deepEqual(await selected(roleSelect(page, email)), { value: role, text: ROLE_NAMES[role] }, `role of ${email}`);
  }
  assert.equal((await memberRow(page, DEMO.anna).locator('td.person a').innerText()).trim(), 'Anna Annotator', 'name link of Anna');
  assert.match(await page.locator('nav[aria-label="Pages"]').innerText(), /Page 1 of 1/);
  await shot('organization');
});

story('role filter "Not Activated" leaves only the pending member', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  const filter = page.locator('#member-filter');
  const options = await filter.locator('select#role-filter option').evaluateAll((os) => os.map((o) => [o.value, o.textContent.trim()]));
  assert.deepEqual(options.map(([v]) => v), ['', 'OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'DI'], 'select#role-filter option values');
  assert.deepEqual(options.find(([v]) => v === 'NO'), ['NO', 'Not Activated']);
  assert.deepEqual(options.find(([v]) => v === 'DI'), ['DI', 'Deactivated']);

  // The seed's tip: choosing Not Activated in the role filter shows the pending users, with no
  // button to press (the Filter button is there only for browsers without script).
  assert.equal(await filter.getByRole('button', { name: 'Filter', exact: true }).isVisible(), false, 'no Filter button to press with script');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization' && url.searchParams.get('role') === 'NO'),
    filter.locator('select#role-filter').selectOption('NO'),
  ]);
  await eventually(async () => assert.deepEqual(await shownEmails(page), [DEMO.pat], 'rows after filtering Not Activated'));
  await expectRole(page, DEMO.pat, 'NO');
  assert.equal(await page.locator('select#role-filter').inputValue(), 'NO', 'the filter keeps showing the chosen role');
  await shot('not-activated');

  // Search as you type: the list follows after a short pause, and the address keeps it.
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get('search') === 'nobody-matches-this' && url.searchParams.get('role') === 'NO'),
    page.locator('input#search').pressSequentially('nobody-matches-this', { delay: 20 }),
  ]);
  await eventually(async () => assert.deepEqual(await shownEmails(page), [], 'no rows for a search that matches nobody'));
  assert.equal(await page.locator('input#search').evaluate((el) => el === document.activeElement), true, 'typing keeps the focus in the search field');

  // Back goes to the list before the search; the filter shows it again.
  await page.goBack();
  await eventually(async () => assert.deepEqual(await shownEmails(page), [DEMO.pat], 'Back: the Not Activated list again'));
  assert.equal(await page.locator('input#search').inputValue(), '', 'Back restores the empty search');
  await page.goBack();
  await eventually(async () => assert.equal((await shownEmails(page)).length, Object.keys(DEMO_ROLES).length, 'Back again: every member'));
  assert.equal(await page.locator('select#role-filter').inputValue(), '', 'Back restores "All roles"');

  // Last active: the Owner, who just signed in, was; Pat never was.
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get('active') === '7d'),
    filter.locator('select#active-filter').selectOption({ label: 'In the last 7 days' }),
  ]);
  await eventually(async () => {
    const shown = await shownEmails(page);
    assert.ok(shown.includes(DEMO.owner) && !shown.includes(DEMO.pat), `active in the last 7 days: ${shown}`);
  });

  await page.goto('/organization?search=annotator');
  await eventually(async () => assert.deepEqual([...(await shownEmails(page))].sort(), [DEMO.alan, DEMO.anna], 'rows for search=annotator'));
});

story('owner activates the pending member with the role drop-down', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  await expectSeats(page, /^6 seats in use/);
  await chooseRole(page, DEMO.pat, 'AN');
  await waitForStatus(page, `${DEMO.pat} is now Annotator`);
  await expectRole(page, DEMO.pat, 'AN');
  await expectSeats(page, /^7 seats in use \(no limit\)$/); // at once, without a reload
  await shot('activated');

  await reloadOrganization(page);
  await expectRole(page, DEMO.pat, 'AN');
  await expectSeats(page, /^7 seats in use \(no limit\)$/);
  await page.goto('/organization?role=NO');
  assert.deepEqual(await shownEmails(page), [], 'nobody is Not Activated any more');
  await shot('after-reload');
});

story('deactivating an annotator frees her seat and reactivating takes it again', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  await expectSeats(page, /^6 seats in use \(no limit\)$/);

  await chooseRole(page, DEMO.anna, 'DI');
  await waitForStatus(page, `${DEMO.anna} is now Deactivated`);
  await expectRole(page, DEMO.anna, 'DI');
  await expectSeats(page, /^5 seats in use \(no limit\)$/); // at once, without a reload
  await reloadOrganization(page);
  await expectRole(page, DEMO.anna, 'DI');
  await expectSeats(page, /^5 seats in use \(no limit\)$/);
  await shot('deactivated');

  await chooseRole(page, DEMO.anna, 'AN');
  await waitForStatus(page, `${DEMO.anna} is now Annotator`);
  await expectSeats(page, /^6 seats in use \(no limit\)$/);
  await reloadOrganization(page);
  await expectRole(page, DEMO.anna, 'AN');
  await expectSeats(page, /^6 seats in use \(no limit\)$/);
  await shot('reactivated');
});

story('owner changing their own role is refused in words and the drop-down goes back', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  await chooseRole(page, DEMO.owner, 'AD');
  await waitForStatus(page, 'your own role');
  await expectRole(page, DEMO.owner, 'OW');
  await shot('refused');
  await reloadOrganization(page);
  await expectRole(page, DEMO.owner, 'OW');
});

story('reactivation is refused with the seat count when no seat is free', async ({ page, context, shot }) => {
  await ownerOnOrganizationPage(page);
  const org = await organizationId(context);
  await api(context, 'PATCH', `/api/organizations/${org}`, { seat_limit: 6 });
  await reloadOrganization(page);
  await expectSeats(page, /^6 of 6 seats in use$/);

  await chooseRole(page, DEMO.dora, 'AN');
  const message = await waitForStatus(page, 'seats in use');
  assert.match(message, /6 of 6 seats in use/, '#status names the count');
  await expectRole(page, DEMO.dora, 'DI');
  await shot('refused');
  await reloadOrganization(page);
  await expectRole(page, DEMO.dora, 'DI');
  await expectSeats(page, /^6 of 6 seats in use$/);
});

story('deleting a member asks for confirmation and leaves their work to "Deleted User"', async ({ page, shot }) => {
  await signIn(page, DEMO.owner);
  // Before: Alan's annotations carry his name on the project page.
  await page.goto('/projects');
  await Promise.all([
    page.waitForURL((url) => /^\/projects\/\d+$/.test(url.pathname)),
    page.getByRole('link', { name: 'Street signs', exact: true }).click(),
  ]);
  const projectURL = page.url();
  const authorsBefore = await annotationAuthors(page);
  const alansWork = authorsBefore.filter((a) => a === 'Alan Annotator').length;
  assert.ok(alansWork > 0, `Alan has annotations in Street signs; authors shown: ${JSON.stringify(authorsBefore)}`);
  assert.ok(!authorsBefore.includes('Deleted User'), 'no "Deleted User" before the deletion');

  await page.goto('/organization');
  const row = memberRow(page, DEMO.alan);
  const id = await row.getAttribute('data-user-id');
  await Promise.all([
    page.waitForURL((url) => url.pathname === `/organization/members/${id}`),
    row.locator('td.person a').click(),
  ]);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Alan Annotator');

  const dialog = page.locator('dialog#confirm-delete');
  await page.locator('#delete-member').click();
  await eventually(async () => assert.equal(await dialog.evaluate((d) => d.open && d.matches(':modal')), true, 'dialog#confirm-delete is open as a modal'));
  assert.match(await dialog.innerText(), /Deleted User/, 'the confirmation says what becomes of their work');
  await shot('confirm');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization'),
    dialog.getByRole('button', { name: 'Delete Member', exact: true }).click(),
  ]);
  await waitForStatus(page, `${DEMO.alan} was deleted`);
  assert.equal(await memberRow(page, DEMO.alan).count(), 0, 'Alan is gone from #members');
  assert.ok(!(await shownEmails(page)).includes(DEMO.alan));
  await shot('deleted');

  await page.goto(projectURL);
  const authorsAfter = await annotationAuthors(page);
  assert.equal(authorsAfter.filter((a) => a === 'Deleted User').length, alansWork, `"Deleted User" authors; shown: ${JSON.stringify(authorsAfter)}`);
  assert.ok(!authorsAfter.includes('Alan Annotator'), 'Alan\'s name is no longer shown');
  assert.ok(authorsAfter.includes('Anna Annotator'), 'other authors keep their names');
  assert.ok(!(await page.locator('#project-members').innerText()).includes(DEMO.alan), '#project-members does not show Alan\'s email');
  await shot('project');
});

story('Cancel in the delete confirmation closes it and deletes nothing', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  const id = await memberRow(page, DEMO.alan).getAttribute('data-user-id');
  await page.goto(`/organization/members/${id}`);
  const dialog = page.locator('dialog#confirm-delete');
  assert.equal(await dialog.evaluate((d) => d.open), false, 'the confirmation is closed until Delete is pressed');
  await page.locator('#delete-member').click();
  await eventually(async () => assert.equal(await dialog.evaluate((d) => d.open && d.matches(':modal')), true, 'dialog#confirm-delete is open as a modal'));
  await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
  await eventually(async () => assert.equal(await dialog.evaluate((d) => d.open), false, 'Cancel closes the dialog'));
  assert.equal(new URL(page.url()).pathname, `/organization/members/${id}`, 'Cancel stays on the member page');
  await shot('cancelled');
  await page.goto('/organization');
  assert.equal(await memberRow(page, DEMO.alan).count(), 1, 'Alan is still a member');
});

/** The author cell of each #annotations body row: the cell that holds a known author name. */
async function annotationAuthors(page) {
  await page.locator('#annotations').waitFor();
  return page.locator('#annotations tbody tr').evaluateAll((rows) => {
    const names = /^(Deleted User|Rita Reviewer|Anna Annotator|Alan Annotator)$/;
    return rows.map((r) => [...r.cells].map((c) => c.textContent.trim()).find((t) => names.test(t)) ?? `?${r.textContent.trim()}`);
  });
}

story('an annotator has no Organization item and gets the 403 page', async ({ page, shot }) => {
  await signIn(page, DEMO.anna);
  await page.goto('/projects');
  const nav = await openMenu(page);
  const texts = await nav.getByRole('link').evaluateAll((as) => as.map((a) => a.textContent.trim()));
  assert.ok(texts.includes('Projects'), `menu shows Projects; shown: ${JSON.stringify(texts)}`);
  assert.ok(!texts.includes('Organization'), `no Organization item; shown: ${JSON.stringify(texts)}`);
  assert.ok(!texts.includes('Audit log'), `no Audit log item; shown: ${JSON.stringify(texts)}`);
  await shot('menu');

  const res = await page.goto('/organization');
  assert.equal(res.status(), 403, 'GET /organization as an Annotator');
  assert.match(await page.locator('body').innerText(), /Only Owners and Administrators can open the Organization page/);
  assert.equal(await page.locator('#members').count(), 0, 'no member table on the 403 page');
  await shot('forbidden');

  const audit = await page.goto('/audit');
  assert.equal(audit.status(), 403, 'GET /audit as an Annotator');
});

story('a manager has no Organization item either and gets the 403 page', async ({ page, shot }) => {
  await signIn(page, DEMO.manager);
  await page.goto('/projects');
  const nav = await openMenu(page);
  const texts = await nav.getByRole('link').evaluateAll((as) => as.map((a) => a.textContent.trim()));
  assert.ok(texts.includes('Projects') && !texts.includes('Organization') && !texts.includes('Audit log'), `menu links shown: ${JSON.stringify(texts)}`);
  const res = await page.goto('/organization');
  assert.equal(res.status(), 403, 'GET /organization as a Manager');
  assert.match(await page.locator('body').innerText(), /Only Owners and Administrators can open the Organization page/);
  await shot('forbidden');
});

story('an administrator opens Organization but cannot change the Owner', async ({ page, shot }) => {
  await signIn(page, DEMO.admin);
  await page.goto('/projects');
  const nav = await openMenu(page);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization'),
    nav.getByRole('link', { name: 'Organization', exact: true }).click(),
  ]);
  await memberRows(page).first().waitFor();
  await expectRole(page, DEMO.owner, 'OW');
  const ownerSelect = roleSelect(page, DEMO.owner);
  if (await ownerSelect.isEnabled()) {
    await ownerSelect.selectOption('AD');
    await eventually(async () => {
      const text = (await page.locator('#status').innerText()).trim();
      assert.ok(text && !text.includes('is now'), `#status shows a refusal, actual ${JSON.stringify(text)}`);
    });
  }
  await expectRole(page, DEMO.owner, 'OW');
  await shot('owner-untouched');
  await reloadOrganization(page);
  await expectRole(page, DEMO.owner, 'OW');

  await chooseRole(page, DEMO.pat, 'RE');
  await waitForStatus(page, `${DEMO.pat} is now Reviewer`);
});

story('the role drop-down is reachable by keyboard and named after its member', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  await page.locator('details#menu').evaluate((d) => (d.open = false));

  // The menu opens from the keyboard too.
  await page.locator('details#menu > summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('details#menu').evaluate((d) => d.open), true, 'Enter on the focused summary opens the menu');
  await page.keyboard.press('Enter');

  // Tab from the top of the page until a role drop-down has focus.
  await page.locator('body').evaluate((b) => b.focus());
  await page.evaluate(() => document.activeElement?.blur());
  let focused = null;
  for (let i = 0; i < 80 && !focused; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el?.matches('select.role-select')) return null;
      return { email: el.closest('tr')?.dataset.email, label: el.getAttribute('aria-label') };
    });
  }
  assert.ok(focused, 'Tab reaches a select.role-select within 80 presses');
  const byName = page.getByRole('combobox', { name: `Role of ${focused.email}`, exact: true });
  assert.equal(await byName.count(), 1, `one combobox with accessible name "Role of ${focused.email}"`);
  assert.equal(await byName.evaluate((el) => el === document.activeElement), true, 'the focused drop-down is the one named after its row');

  for (const email of Object.keys(DEMO_ROLES)) {
    assert.equal(await page.getByRole('combobox', { name: `Role of ${email}`, exact: true }).count(), 1, `combobox "Role of ${email}"`);
  }
  assert.equal(await page.locator('#status').getAttribute('role'), 'status', '#status is a live region');

  // Change a role with the keyboard alone: focus Pat's drop-down and move to the next option.
  const pat = page.getByRole('combobox', { name: `Role of ${DEMO.pat}`, exact: true });
  await pat.focus();
  const { key, target } = await pat.evaluate((s) => {
    const i = s.selectedIndex;
    const next = i + 1 < s.options.length ? i + 1 : i - 1;
    return { key: next > i ? 'ArrowDown' : 'ArrowUp', target: { value: s.options[next].value, text: s.options[next].textContent.trim() } };
  });
  await page.keyboard.press(key);
  await waitForStatus(page, `${DEMO.pat} is now ${target.text}`);
  await expectRole(page, DEMO.pat, target.value);
  await shot('keyboard');
});

story('the Organization page fits a phone screen and its menu opens', { viewport: { width: 390, height: 844 } }, async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  await page.locator('details#menu').evaluate((d) => (d.open = false));
  const overflow = () => page.evaluate(() => ({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth }));
  const closed = await overflow();
  assert.ok(closed.scrollWidth <= closed.innerWidth + 1, `no horizontal overflow at 390 px: ${JSON.stringify(closed)}`);
  await shot('phone');

  const nav = await openMenu(page);
  const link = nav.getByRole('link', { name: 'Organization', exact: true });
  assert.equal(await link.isVisible(), true, 'menu link Organization is visible');
  const box = await link.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 391, `Organization link lies within the screen: ${JSON.stringify(box)}`);
  const open = await overflow();
  assert.ok(open.scrollWidth <= open.innerWidth + 1, `no horizontal overflow with the menu open: ${JSON.stringify(open)}`);
  await shot('phone-menu');
});

story('"Add people" shows the invite link, resets it, and sends email invites', { permissions: ['clipboard-read', 'clipboard-write'] }, async ({ page, shot }) => {
  page.on('dialog', (d) => d.accept()); // a native confirm before resetting the link is fine
  await ownerOnOrganizationPage(page);
  const add = page.locator('#add-people');
  const link = add.locator('input#invite-link');
  const first = await link.inputValue();
  assert.match(first, /^https?:\/\/[^/]+\/user\/signup\/?\?token=[\w-]+$/, 'input#invite-link holds the full sign-up URL');
  assert.equal(await link.evaluate((i) => i.readOnly), true, 'input#invite-link is readonly');

  await add.getByRole('button', { name: 'Copy link', exact: true }).click();
  await eventually(async () => assert.equal(await page.evaluate(() => navigator.clipboard.readText()), first, 'clipboard after "Copy link"'));

  await add.getByRole('button', { name: 'Reset link', exact: true }).click();
  await eventually(async () => assert.notEqual(await link.inputValue(), first, 'input#invite-link changes after "Reset link"'));
  const second = await link.inputValue();
  assert.match(second, /\/user\/signup\/?\?token=[\w-]+$/);
  await reloadOrganization(page);
  assert.equal(await page.locator('input#invite-link').inputValue(), second, 'the new link survives a reload');

  const form = page.locator('#invite-form');
  await form.locator('textarea#invite-emails').fill('new.person@example.com');
  await form.locator('select#invite-role').selectOption('AN');
  await form.getByRole('button', { name: 'Send invites', exact: true }).click();
  const inviteRow = page.locator('#invites tbody tr', { hasText: 'new.person@example.com' });
  await eventually(async () => {
    assert.equal(await inviteRow.count(), 1, '#invites has a row for new.person@example.com');
    assert.match(await inviteRow.innerText(), /pending/, 'the invite is pending');
  });
  await shot('invited');
  await reloadOrganization(page);
  assert.equal(await page.locator('#invites tbody tr', { hasText: 'new.person@example.com' }).count(), 1, 'the invite survives a reload');
  await expectSeats(page, /^7 seats in use \(no limit\)$/); // an Annotator invite holds a seat
});

story('the audit log lists a role change made on the Organization page', async ({ page, shot }) => {
  await ownerOnOrganizationPage(page);
  await chooseRole(page, DEMO.pat, 'AN');
  await waitForStatus(page, `${DEMO.pat} is now Annotator`);

  const nav = await openMenu(page);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/audit'),
    nav.getByRole('link', { name: 'Audit log', exact: true }).click(),
  ]);
  await page.locator('#events').waitFor();
  // The change reads as a sentence, with where it was made.
  const rows = page.locator('#events tbody tr', { hasText: 'activated Pat Pending as Annotator' });
  assert.equal(await rows.count(), 1, '#events has the sentence about Pat');
  const patRow = await rows.first().innerText();
  assert.match(patRow, new RegExp(`${escape(DEMO.owner)} activated Pat Pending as Annotator`), 'who did it, to whom, and the role');
  assert.match(patRow, /Web page/, 'the row says the change came from the web page');
  await shot('audit');

  // Filter by the action, chosen by its name in words.
  const allEvents = await page.locator('#events tbody tr').count();
  const filter = page.locator('select#action-filter');
  await filter.selectOption({ label: 'Role changed' });
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/audit' && url.searchParams.get('action') === 'member.role_changed'),
    page.locator('form', { has: filter }).getByRole('button', { name: 'Filter', exact: true }).click(),
  ]);
  const shown = await page.locator('#events tbody tr').allInnerTexts();
  assert.ok(shown.length >= 1, '#events has rows for "Role changed"');
  for (const row of shown) assert.match(row, / (changed .* from .* to|activated|deactivated|reactivated) /, `every row is a role change: ${JSON.stringify(row)}`);
  assert.ok(shown.length < allEvents, `filtering narrows the log (${shown.length} of ${allEvents} rows)`);
});

/** The tag labels shown in a member's row, by label. */
async function rowTags(page, email) {
  return memberRow(page, email).locator('ul.tags .tag-label').allInnerTexts();
}

/**
 * Changes a filter of the member list: with script the list follows at once (and the address
 * with it); without script the Filter button sends the form.
 */
async function changeFilter(page, change, urlCheck, script) {
  if (script) {
    await Promise.all([page.waitForURL(urlCheck), change()]);
  } else {
    await change();
    await Promise.all([page.waitForURL(urlCheck), page.locator('#member-filter').getByRole('button', { name: 'Filter', exact: true }).click()]);
  }
}

/** Submits a form of the page (a full page load, with or without script) and waits for its status. */
async function submitAndSee(page, button, status) {
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization' && url.searchParams.has('status')),
    button.click(),
  ]);
  return waitForStatus(page, status);
}

/**
 * The member-tag story: the Owner creates a tag, puts it on Anna from her row, filters the
 * list by it (with the role filter too), takes it off with × and deletes the tag.
 */
async function tagStory(page, shot, { script }) {
  page.on('dialog', (d) => d.accept()); // the Delete confirmation, with script
  await ownerOnOrganizationPage(page);
  const section = page.locator('section#member-tags');
  assert.equal(await section.locator('#no-tags').count(), 1, 'no tags yet');
  assert.equal(await page.locator('select#tag-filter').count(), 0, 'no tag filter without tags');

  await section.locator('input#new-tag').fill('Night shift');
  await submitAndSee(page, section.getByRole('button', { name: 'Create tag', exact: true }), 'The tag "Night shift" was created.');
  await section.locator('input#new-tag').fill('QA');
  await submitAndSee(page, section.getByRole('button', { name: 'Create tag', exact: true }), 'The tag "QA" was created.');
  assert.deepEqual(await section.locator('#tag-list .tag-label').allInnerTexts(), ['Night shift', 'QA'], '#tag-list');

  // "+ Tag" in Anna's row opens the form; the label is one of the organization's tags.
  const anna = memberRow(page, DEMO.anna);
  await anna.locator('details.tag-add > summary').click();
  const input = anna.getByRole('combobox', { name: `Tag for ${DEMO.anna}`, exact: true });
  assert.equal(await input.getAttribute('list'), 'org-tags', 'the tag input suggests the organization\'s tags');
  assert.deepEqual(await page.locator('datalist#org-tags option').evaluateAll((os) => os.map((o) => o.value)), ['Night shift', 'QA']);
  await input.fill('Night shift');
  await submitAndSee(page, anna.getByRole('button', { name: 'Add', exact: true }), `${DEMO.anna} now has the tag "Night shift".`);
  const alan = memberRow(page, DEMO.alan);
  await alan.locator('details.tag-add > summary').click();
  await alan.getByRole('combobox', { name: `Tag for ${DEMO.alan}`, exact: true }).fill('qa');
  await submitAndSee(page, alan.getByRole('button', { name: 'Add', exact: true }), `${DEMO.alan} now has the tag "QA".`);
  assert.deepEqual(await rowTags(page, DEMO.anna), ['Night shift']);
  assert.deepEqual(await rowTags(page, DEMO.alan), ['QA']);
  for (const email of [DEMO.owner, DEMO.admin, DEMO.manager, DEMO.reviewer, DEMO.dora, DEMO.pat]) {
    assert.deepEqual(await rowTags(page, email), [], `no tags on ${email}`);
  }
  await shot('tagged');

  // Filter by the tag: only Anna; with the role filter too; the address keeps both.
  const filter = page.locator('#member-filter');
  await changeFilter(page, () => filter.locator('select#tag-filter').selectOption({ label: 'Night shift' }),
    (url) => url.pathname === '/organization' && /^\d+$/.test(url.searchParams.get('tags') ?? ''), script);
  assert.deepEqual(await shownEmails(page), [DEMO.anna], 'rows filtered by "Night shift"');
  assert.match(await page.locator('p.count').innerText(), /^1 member$/);
  assert.equal(await page.locator('select#tag-filter option:checked').innerText(), 'Night shift', 'the filter shows the chosen tag');
  await shot('filtered');
  await changeFilter(page, () => filter.locator('select#role-filter').selectOption('RE'),
    (url) => url.searchParams.get('role') === 'RE' && url.searchParams.has('tags'), script);
  assert.deepEqual(await shownEmails(page), [], 'no Reviewer has "Night shift"');
  await changeFilter(page, () => filter.locator('select#role-filter').selectOption('AN'),
    (url) => url.searchParams.get('role') === 'AN' && url.searchParams.has('tags'), script);
  assert.deepEqual(await shownEmails(page), [DEMO.anna], 'Annotators with "Night shift"');

  // × takes the tag off Anna; the page comes back to the same filtered list, now empty.
  const remove = memberRow(page, DEMO.anna).getByRole('button', { name: `Remove tag Night shift from ${DEMO.anna}`, exact: true });
  await submitAndSee(page, remove, `The tag "Night shift" was taken off ${DEMO.anna}.`);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('role'), 'AN', 'the role filter is kept');
  assert.match(url.searchParams.get('tags') ?? '', /^\d+$/, 'the tag filter is kept');
  assert.deepEqual(await shownEmails(page), [], 'nobody has "Night shift" any more');
  await shot('taken-off');

  // Delete "QA": it comes off Alan too.
  await page.goto('/organization');
  await submitAndSee(page, section.getByRole('button', { name: 'Delete tag QA', exact: true }), 'The tag "QA" was deleted and taken off its members.');
  assert.deepEqual(await rowTags(page, DEMO.alan), []);
  assert.deepEqual(await section.locator('#tag-list .tag-label').allInnerTexts(), ['Night shift']);
  assert.deepEqual(await page.locator('select#tag-filter option').allInnerTexts(), ['All tags', 'Night shift']);
  await shot(script ? 'after-delete' : 'after-delete-no-script');
}

story('owner creates a tag, puts it on a member, filters the list by it and takes it off', async ({ page, shot }) => {
  await tagStory(page, shot, { script: true });
});

story('member tags work without script', { javaScriptEnabled: false }, async ({ page, shot }) => {
  await tagStory(page, shot, { script: false });
});

story('member tags fit a phone screen', { viewport: { width: 390, height: 844 } }, async ({ page, context, shot }) => {
  await ownerOnOrganizationPage(page);
  const org = await organizationId(context);
  const tag = await api(context, 'POST', `/api/organizations/${org}/member-tags`, { label: 'Weekend reviewers' });
  await api(context, 'POST', `/api/organizations/${org}/member-tags`, { label: 'QA' });
  await api(context, 'POST', `/api/organizations/${org}/member-tags/assignments?role=AN`, { all: true, tags: [tag.id] });
  await reloadOrganization(page);
  await page.locator('details#menu').evaluate((d) => (d.open = false));
  assert.deepEqual(await rowTags(page, DEMO.anna), ['Weekend reviewers']);
  // Each row's tags and its "+ Tag" lie within the screen, with no sideways scrolling (of the
  // page or of the table).
  for (const part of ['ul.tags', 'details.tag-add > summary']) {
    const box = await memberRow(page, DEMO.anna).locator(part).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${part} of Anna's row lies within the screen: ${JSON.stringify(box)}`);
  }
  const size = await page.evaluate(() => {
    const wrap = document.querySelector('#members').closest('.table-wrap');
    return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth, tableScroll: wrap.scrollWidth, tableWidth: wrap.clientWidth };
  });
  assert.ok(size.scrollWidth <= size.innerWidth + 1, `no horizontal overflow at 390 px: ${JSON.stringify(size)}`);
  assert.ok(size.tableScroll <= size.tableWidth + 1, `the member table needs no sideways scrolling: ${JSON.stringify(size)}`);
  await shot('phone-tags');
  await memberRow(page, DEMO.anna).locator('details.tag-add > summary').click();
  await shot('phone-add-open');
});

for (const [viewport, width] of [[{ width: 1280, height: 800 }, 'desktop'], [{ width: 390, height: 844 }, 'phone']]) {
story(`Undo after a deactivation puts the previous role back, and the audit log keeps both (${width})`, { viewport }, async ({ page, context, shot }) => {
  await ownerOnOrganizationPage(page);
  await expectSeats(page, /^6 seats in use/);
  await chooseRole(page, DEMO.anna, 'DI');
  await waitForStatus(page, `${DEMO.anna} is now Deactivated`);
  await expectSeats(page, /^5 seats in use/);
  const undo = page.locator('#status').getByRole('button', { name: 'Undo', exact: true });
  assert.equal(await undo.count(), 1, 'the notice offers Undo');
  await shot('undo-offered');
  await undo.click();
  await waitForStatus(page, `${DEMO.anna} is now Annotator`);
  await expectRole(page, DEMO.anna, 'AN');
  await expectSeats(page, /^6 seats in use/);
  assert.equal(await page.locator('#status').getByRole('button', { name: 'Undo' }).count(), 0, 'an Undo is not undone again');
  await reloadOrganization(page);
  await expectRole(page, DEMO.anna, 'AN');
  const anna = await api(context, 'GET', `/api/audit-events/?page_size=2`);
  const actions = anna.results.map((e) => [e.action, e.old_value, e.new_value]);
  assert.deepEqual(actions, [['member.role_changed', 'DI', 'AN'], ['member.role_changed', 'AN', 'DI']], 'both changes are in the audit log, newest first');
});

story(`bulk activation of 40 sign-ups with 30 seats free activates the first 30 in the page's order and names the 10 refused (${width})`, { viewport }, async ({ page, context, shot }) => {
  await signIn(page, DEMO.owner);
  const org = await organizationId(context);
  // Forty people signed up with the link this morning; they wait as Not Activated.
  await api(context, 'PATCH', `/api/organizations/${org}/set-default-role`, { default_role: 'NO' });
  const emails = [];
  for (let i = 1; i <= 40; i++) {
    const email = `signup${String(i).padStart(2, '0')}@morning.example`;
    emails.push(email);
    await api(context, 'POST', '/api/users', { email, first_name: `Signup${i}`, last_name: 'Morning' });
  }
  const seats = await api(context, 'GET', `/api/organizations/${org}/seats`);
  await api(context, 'PATCH', `/api/organizations/${org}`, { seat_limit: seats.used + 30 });

  await page.goto('/organization?role=NO&search=morning.example');
  await eventually(async () => assert.deepEqual(await shownEmails(page), emails, 'the 40 sign-ups, by email'));
  await expectSeats(page, new RegExp(`^${seats.used} of ${seats.used + 30} seats in use$`));
  await page.getByRole('checkbox', { name: 'Select every member on this page', exact: true }).check();
  assert.equal(await page.locator('#bulk-selected').innerText(), '40 selected');
  await page.locator('select#bulk-action').selectOption({ label: 'Make Annotator' });
  await shot('bulk-selected');
  await page.getByRole('button', { name: 'Apply to selected', exact: true }).click();
  await waitForStatus(page, /30 changed, 10 refused/, 20_000);
  const refused = await page.locator('#bulk-result ul.refused li').allInnerTexts();
  assert.equal(refused.length, 10, 'ten refusals listed');
  refused.forEach((line, i) => {
    assert.ok(line.startsWith(`${emails[30 + i]}: `), `refusal ${i} names ${emails[30 + i]}: ${line}`);
    assert.match(line, /seats in use; deactivate a member or raise the limit/);
  });
  await expectSeats(page, new RegExp(`^${seats.used + 30} of ${seats.used + 30} seats in use$`));
  await eventually(async () => {
    assert.equal(await page.locator('meter#seat-meter').getAttribute('value'), String(seats.used + 30), 'the seat meter is full');
    assert.equal(await page.locator('#seats-full').isVisible(), true, 'the page says what to do when every seat is taken');
  });
  // The list (still Not Activated) now holds only the ten refused.
  await eventually(async () => assert.deepEqual(await shownEmails(page), emails.slice(30), 'the ten left pending'));
  await shot('bulk-done');
  const members = await api(context, 'GET', `/api/organizations/${org}/memberships?search=morning.example&page_size=100&role=AN`);
  assert.deepEqual(members.results.map((m) => m.user.email).sort(), emails.slice(0, 30), 'the first 30 are Annotators');
});

}

story('bulk actions work without script: the selection runs and the page says what happened', { javaScriptEnabled: false }, async ({ page, shot }) => {
  await signIn(page, DEMO.owner);
  await page.goto('/organization?role=AN');
  await eventually(async () => assert.deepEqual([...(await shownEmails(page))].sort(), [DEMO.alan, DEMO.anna]));
  for (const email of [DEMO.alan, DEMO.anna]) await page.getByRole('checkbox', { name: `Select ${email}`, exact: true }).check();
  await page.locator('select#bulk-action').selectOption({ label: 'Make Reviewer' });
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/organization' && url.searchParams.has('status')),
    page.getByRole('button', { name: 'Apply to selected', exact: true }).click(),
  ]);
  await waitForStatus(page, '2 members are now Reviewer.');
  assert.equal(new URL(page.url()).searchParams.get('role'), 'AN', 'the page comes back to the same filter');
  assert.deepEqual(await shownEmails(page), [], 'no Annotators left');
  await shot('bulk-no-script');
});

story('signing out ends the session', async ({ page }) => {
  await signIn(page, DEMO.owner);
  await page.goto('/projects');
  await openMenu(page);
  await Promise.all([
    page.waitForEvent('framenavigated'),
    page.locator('details#menu').getByRole('button', { name: 'Sign out', exact: true }).click(),
  ]);
  await page.waitForLoadState();
  const res = await page.goto('/organization');
  assert.notEqual(await page.locator('h1').first().innerText().catch(() => ''), 'Organization', 'the Organization page is not shown after signing out');
  assert.ok(new URL(page.url()).pathname === '/user/login' || res.status() === 401, `after signing out /organization leads to the sign-in page (at ${page.url()}, status ${res.status()})`);
});
