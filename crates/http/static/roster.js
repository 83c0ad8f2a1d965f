// roster's pages work without script; this file adds the small conveniences: role changes that
// apply at once, copying the invite link (and the SCIM and SAML values), the delete confirmations
// as modal dialogs, and the group-mapping editor's rows added and removed in place.
"use strict";

document.documentElement.classList.add("js");

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function say(text, isError) {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

async function applyRole(select) {
  const form = select.form;
  const previous = select.dataset.current;
  select.disabled = true;
  try {
    const res = await fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ role: select.value, csrf_token: csrfToken() }),
      credentials: "same-origin",
    });
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      select.dataset.current = body.role;
      select.value = body.role;
      say(body.message, false);
      const seats = document.getElementById("seats");
      if (seats && body.seats) seats.textContent = body.seats;
    } else {
      select.value = previous;
      say(body.detail || "The change was refused (" + res.status + ").", true);
    }
  } catch (e) {
    select.value = previous;
    say("The server could not be reached; nothing was changed.", true);
  } finally {
    select.disabled = false;
    select.focus();
  }
}

// Copy buttons name the field they copy: <button data-copy="field-id">.
async function copyField(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  try {
    await navigator.clipboard.writeText(input.value);
    say("Copied.", false);
  } catch (e) {
    input.select();
    say("Press Ctrl+C to copy the selected text.", false);
  }
}

// The group-mapping editor (SCIM and SAML pages): "Add ..." clones the table's row template and "Remove" drops the
// row, without a round trip (without script both buttons ask the server to redraw the form).
// A Save form below a preview saves what was previewed, so editing after it asks for a new one.
function mappingEditor(form) {
  const stale = () => {
    const save = document.getElementById("save-button");
    const note = document.getElementById("stale-preview");
    if (save) save.disabled = true;
    if (note) note.hidden = false;
  };
  form.addEventListener("click", (e) => {
    const add = e.target.closest("button[data-add-row]");
    if (add) {
      e.preventDefault();
      const id = add.dataset.addRow;
      const template = document.getElementById(id + "-row");
      const body = document.querySelector("#" + id + " tbody");
      if (!template || !body) return;
      body.appendChild(template.content.cloneNode(true));
      const empty = document.querySelector('.empty-note[data-empty-for="' + id + '"]');
      if (empty) empty.hidden = true;
      const input = body.lastElementChild && body.lastElementChild.querySelector("input");
      if (input) input.focus();
      stale();
      return;
    }
    const remove = e.target.closest("button.remove-row");
    if (remove) {
      e.preventDefault();
      const row = remove.closest("tr");
      const table = row && row.closest("table");
      if (row) row.remove();
      const next = table && table.querySelector("tbody select, tbody input");
      (next || form.querySelector("#preview-button")).focus();
      stale();
    }
  });
  form.addEventListener("input", stale);
  form.addEventListener("change", stale);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copyField(button));
  }
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (e) => {
      if (!window.confirm(button.dataset.confirm)) e.preventDefault();
    });
  }
  const mapping = document.getElementById("mapping-form");
  if (mapping) mappingEditor(mapping);
  for (const select of document.querySelectorAll("select.role-select")) {
    select.addEventListener("change", () => applyRole(select));
  }
  const copy = document.getElementById("copy-link");
  if (copy) {
    copy.addEventListener("click", async () => {
      const input = document.getElementById("invite-link");
      try {
        await navigator.clipboard.writeText(input.value);
        say("Invite link copied.", false);
      } catch (e) {
        input.select();
        say("Press Ctrl+C to copy the selected link.", false);
      }
    });
  }
  confirmDialog("delete-member", "confirm-delete", "cancel-delete");
  confirmDialog("delete-workspace", "confirm-delete-workspace", "cancel-delete-workspace");
});

// A deletion's confirmation: without script its link reloads the page with the dialog open;
// with script the link opens it as a modal and Cancel closes it where it is.
function confirmDialog(linkId, dialogId, cancelId) {
  const del = document.getElementById(linkId);
  const dialog = document.getElementById(dialogId);
  if (!del || !dialog || typeof dialog.showModal !== "function") return;
  del.addEventListener("click", (e) => {
    e.preventDefault();
    if (dialog.open) dialog.close();
    dialog.showModal();
  });
  const cancel = document.getElementById(cancelId);
  if (cancel) {
    cancel.addEventListener("click", (e) => {
      e.preventDefault();
      dialog.close();
      del.focus();
    });
  }
}
