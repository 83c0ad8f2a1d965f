// Workspaces and project members in a real browser: an Owner opens Workspaces from the menu,
// creates one, adds a member and a project, and gives a project member a project role; an
// Annotator then sees the workspace read only. Without script the same forms work, and the
// deletion's confirmation opens as a page.
import assert from 'node:assert/strict';
import { DEMO, api, eventually, openMenu, signIn, storyteller, waitForStatus } from './harness.mjs';

const story = storyteller();

/** Opens Workspaces from the upper-left menu (from /projects, like the other files). */
async function workspacesFromMenu(page) {
  await page.goto('/projects');
  const nav = await openMenu(page);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/workspaces'),
    nav.getByRole('link', { name: 'Workspaces', exact: true }).click(),
  ]);
}

/** Creates a workspace with the page's form; resolves on its page. */
async function createWorkspace(page, title, description, color) {
  const form = page.locator('#create-workspace');
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Description').fill(description);
  await form.getByLabel('Color').fill(color);
  await Promise.all([
    page.waitForURL((url) => /^\/workspaces\/\d+$/.test(url.pathname)),
    form.getByRole('button', { name: 'Create workspace' }).click(),
  ]);
  await waitForStatus(page, `Workspace “${title}” was created`);
}

/** Narrows the add drop-down with the find form, then picks the option naming `email`. */
async function pickMember(page, email) {
  await page.locator('#find').fill(email);
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get('find') === email),
    page.getByRole('search', { name: 'Find people to add' }).getByRole('button', { name: 'Find' }).click(),
  ]);
  const select = page.locator('#add-user');
  const value = await select.locator('option', { hasText: email }).getAttribute('value');
  assert.ok(value, `the add drop-down offers ${email}`);
  await select.selectOption(value);
}

const rowTexts = (table) => table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.textContent.replace(/\s+/g, ' ').trim()));

story('an Owner creates a workspace, adds a member and a project, and staffs the project with a role; an Annotator sees it read only', async ({ page, context, shot }) => {
  await signIn(page, DEMO.owner);
  await api(context, 'POST', '/api/projects/', { title: 'Traffic lights', description: 'Red, amber, green.' });
  await workspacesFromMenu(page);
  await createWorkspace(page, 'Night shift', 'Labelers who work late.', '#2f5bd3');
  const workspaceURL = new URL(page.url()).pathname;
  assert.match(await page.locator('#workspace-facts').innerText(), /#2f5bd3/);
  await shot('created');

  // A member, chosen from the organization's members.
  await pickMember(page, DEMO.anna);
  await page.getByRole('button', { name: 'Add member', exact: true }).click();
  await waitForStatus(page, `${DEMO.anna} is a member of this workspace.`);
  assert.ok((await rowTexts(page.locator('#workspace-members'))).some((t) => t.includes(DEMO.anna)), 'Anna is listed');

  // A project.
  const projectSelect = page.locator('#add-project-id');
  await projectSelect.selectOption({ label: 'Traffic lights' });
  await page.getByRole('button', { name: 'Add project', exact: true }).click();
  await waitForStatus(page, 'Project “Traffic lights” is in this workspace.');
  await shot('member-and-project');

  // The project's page: Alan joins it as a Reviewer.
  await Promise.all([
    page.waitForURL((url) => /^\/projects\/\d+$/.test(url.pathname)),
    page.locator('#workspace-projects').getByRole('link', { name: 'Traffic lights' }).click(),
  ]);
  await pickMember(page, DEMO.alan);
  await page.locator('#add-role').selectOption({ label: 'Reviewer' });
  await page.locator('#add-project-member').getByRole('button', { name: 'Add member', exact: true }).click();
  await waitForStatus(page, `${DEMO.alan} works in this project as Reviewer.`);
  const alanRow = page.locator('#project-members tbody tr', { hasText: DEMO.alan });
  assert.equal(await alanRow.getByRole('combobox', { name: `Project role of ${DEMO.alan}` }).inputValue(), 'RE');
  assert.match(await alanRow.innerText(), /Reviewer \(set by manual\)/);
  assert.match(await alanRow.innerText(), /Project member/);
  await shot('project-member');

  // Alan, an Annotator, sees the workspace that holds his project, read only.
  await context.clearCookies();
  await signIn(page, DEMO.alan);
  await workspacesFromMenu(page);
  assert.equal(await page.locator('#create-workspace').count(), 0, 'no create form for an Annotator');
  await Promise.all([
    page.waitForURL((url) => url.pathname === workspaceURL),
    page.locator('#workspaces').getByRole('link', { name: 'Night shift' }).click(),
  ]);
  assert.ok((await rowTexts(page.locator('#workspace-projects'))).some((t) => t.includes('Traffic lights')));
  await page.locator('#read-only').waitFor();
  for (const id of ['#workspace-settings', '#workspace-members', '#add-member', '#add-project', '#delete-workspace']) {
    assert.equal(await page.locator(id).count(), 0, `no ${id} for an Annotator`);
  }
  assert.equal(await page.getByRole('button', { name: /Remove/ }).count(), 0, 'no Remove buttons');
  await shot('annotator-read-only');

  // His project page shows the members without forms.
  await page.locator('#workspace-projects').getByRole('link', { name: 'Traffic lights' }).click();
  await page.locator('#project-members').waitFor();
  assert.equal(await page.locator('#add-project-member').count(), 0);
  assert.equal(await page.locator('select.project-role-select').count(), 0);
});

story('without script: a project role changes with Apply, and a workspace is deleted through its confirmation page', { javaScriptEnabled: false }, async ({ page, context, shot }) => {
  await signIn(page, DEMO.owner);
  const projects = await api(context, 'GET', '/api/projects/');
  const streetSigns = projects.results.find((p) => p.title === 'Street signs');
  await page.goto(`/projects/${streetSigns.id}`);
  const annaRow = page.locator('#project-members tbody tr', { hasText: DEMO.anna });
  await annaRow.getByRole('combobox', { name: `Project role of ${DEMO.anna}` }).selectOption('RE');
  await annaRow.getByRole('button', { name: `Apply the project role of ${DEMO.anna}` }).click();
  await waitForStatus(page, `${DEMO.anna} works in this project as Reviewer.`);
  const roles = await api(context, 'GET', `/api/projects/${streetSigns.id}/roles`);
  const annaId = Number(await page.locator('#project-members tbody tr', { hasText: DEMO.anna }).getAttribute('data-user-id'));
  assert.equal(roles.find((r) => r.user === annaId)?.role, 'RE', 'Anna is a Reviewer in Street signs');
  await shot('role-applied');

  await page.goto('/workspaces');
  await createWorkspace(page, 'Short lived', '', '');
  const deleteLink = page.getByRole('button', { name: 'Delete workspace' }).first();
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get('confirm') === 'delete'),
    deleteLink.click(),
  ]);
  const dialog = page.locator('dialog#confirm-delete-workspace');
  await eventually(async () => assert.equal(await dialog.evaluate((d) => d.open), true, 'the confirmation is open'));
  assert.match(await dialog.innerText(), /Its projects stay in the organization/);
  await shot('confirm');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/workspaces'),
    dialog.getByRole('button', { name: 'Delete workspace' }).click(),
  ]);
  await waitForStatus(page, 'Workspace “Short lived” was deleted');
  assert.equal(await page.locator('#workspaces').getByRole('link', { name: 'Short lived' }).count(), 0);
});
