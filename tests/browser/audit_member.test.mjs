// The member panel and the audit log in a real browser: an Owner opens a member's panel from
// the Organization page, changes their role with the drop-down, and reads the change in the
// panel's history in words; then filters the audit log by that person, reads the same
// sentence there, and downloads the filtered log as CSV. Both pages are checked with axe-core
// at desktop and phone widths.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DEMO, assertAccessible, assertNoSidewaysScroll, memberRow, signIn, storyteller, waitForStatus } from './harness.mjs';

const story = storyteller();

const CHANGE = /^owner@demo\.roster changed Anna \S+ from Annotator to Reviewer$/;

const historyTexts = (page) => page.locator('#member-history .sentence').allInnerTexts();
const auditTexts = (page) => page.locator('#events tbody .sentence').allInnerTexts();

for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
  story(`an Owner changes a role from the member panel and finds it in the audit log (${label})`, { viewport: { width, height } }, async ({ page, shot }) => {
    await signIn(page, DEMO.owner);
    await page.goto('/organization');
    const row = memberRow(page, DEMO.anna);
    await Promise.all([
      page.waitForURL((url) => /^\/organization\/members\/\d+$/.test(url.pathname)),
      row.locator(`a[href^="/organization/members/"]`).first().click(),
    ]);
    const panelURL = new URL(page.url()).pathname;
    assert.match(await page.locator('#member-name').innerText(), /^Anna /);
    assert.equal(await page.locator('#member-email').innerText(), DEMO.anna);
    assert.equal(await page.locator('.member-head .avatar').innerText(), 'AA');
    assert.equal(await page.locator('#seat').innerText(), 'Takes a seat');
    // The exact time is on hover (in the viewer's time zone once script ran); the text is relative.
    const since = page.locator('time[data-exact]').first();
    assert.match(await since.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(await since.getAttribute('title'), /\d{4}/);
    assert.match(await since.innerText(), /ago$|^just now$/);
    await shot('panel');
    await assertAccessible(page, `the member panel (${label})`);
    await assertNoSidewaysScroll(page);

    // The drop-down applies the role in place, as on the Organization page.
    const select = page.locator('select.role-select');
    assert.equal(await select.getAttribute('data-current'), 'AN');
    await select.selectOption('RE');
    await waitForStatus(page, `${DEMO.anna} is now Reviewer`);
    assert.equal(await select.getAttribute('data-current'), 'RE');
    await page.goto(panelURL);
    const history = await historyTexts(page);
    assert.match(history[0], CHANGE, JSON.stringify(history));
    await shot('panel-after-change');

    // The panel's link opens the audit log filtered by this person, with the same sentence.
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/audit' && url.searchParams.get('person') === DEMO.anna),
      page.locator('#full-history').click(),
    ]);
    assert.match((await auditTexts(page))[0], CHANGE);

    // The form filters by whom it was done to and by the action's name.
    await page.goto('/audit');
    await page.getByLabel('Done to (email)').fill(DEMO.anna);
    await page.getByLabel('Action').selectOption({ label: 'Role changed' });
    await Promise.all([
      page.waitForURL((url) => url.searchParams.get('target') === DEMO.anna && url.searchParams.get('action') === 'member.role_changed'),
      page.getByRole('button', { name: 'Filter', exact: true }).click(),
    ]);
    // The demo activated Anna when it seeded her: her role changes are that and this one.
    const rows = await auditTexts(page);
    assert.equal(rows.length, 2, JSON.stringify(rows));
    assert.match(rows[0], CHANGE);
    assert.match(rows[1], /^owner@demo\.roster activated Anna \S+ as Annotator$/);
    await shot('audit-filtered');
    await assertAccessible(page, `the audit log (${label})`);
    await assertNoSidewaysScroll(page);

    // "Download CSV" downloads the same filtered log.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'audit-log.csv');
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    assert.equal(csv[0], 'time,actor,actor_email,action,description,target,target_email,source,address');
    assert.equal(csv.length, 3, csv.join('\n'));
    const fields = csv[1].split(',');
    assert.equal(fields[3], 'member.role_changed');
    assert.match(fields[4], CHANGE);
    assert.equal(fields[6], DEMO.anna);
  });
}
