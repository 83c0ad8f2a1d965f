// roster's pages work without script; this file adds the conveniences: role changes that apply
// at once with an Undo, member-list filters that apply as they are chosen (kept in the URL),
// bulk actions run batch by batch with progress, times in the viewer's time zone, copying the
// invite link (and the SCIM and SAML values), the delete confirmations as modal dialogs, and the
// group-mapping editor's rows added and removed in place.
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

// Posts a role for the member of `select`'s form; returns the server's answer or null.
async function postRole(select, role) {
  const res = await fetch(select.form.action, {
    method: "POST",
    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ role, csrf_token: csrfToken() }),
    credentials: "same-origin",
  });
  const body = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, body };
}

// Shows the seats a change answered with: the words, the meter, and the notice shown when
// every seat is taken.
function showSeats(body) {
  const seats = document.getElementById("seats");
  if (!seats || !body.seats) return;
  seats.textContent = body.seats;
  const meter = document.getElementById("seat-meter");
  if (meter && body.seat_limit != null) {
    meter.max = body.seat_limit;
    meter.value = body.seats_used;
  }
  const full = document.getElementById("seats-full");
  if (full) full.hidden = !body.seats_full;
}

// A role chosen in a drop-down applies at once; the notice names the change and offers Undo,
// which puts the previous role back through the same call (the audit log keeps both).
async function applyRole(select, role = select.value, undoable = true) {
  const previous = select.dataset.current;
  select.disabled = true;
  try {
    const { ok, status, body } = await postRole(select, role);
    if (ok) {
      select.dataset.current = body.role;
      select.value = body.role;
      showSeats(body);
      if (undoable && previous && previous !== body.role) {
        sayWithUndo(body.message, () => applyRole(select, previous, false));
      } else {
        say(body.message, false);
      }
    } else {
      select.value = previous;
      say(body.detail || "The change was refused (" + status + ").", true);
    }
  } catch (e) {
    select.value = previous;
    say("The server could not be reached; nothing was changed.", true);
  } finally {
    select.disabled = false;
    if (document.activeElement === document.body) select.focus();
  }
}

function sayWithUndo(text, undo) {
  const status = document.getElementById("status");
  if (!status) return;
  status.classList.remove("error");
  status.textContent = text + " ";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "small undo";
  button.textContent = "Undo";
  button.addEventListener("click", () => {
    button.disabled = true;
    undo();
  });
  status.appendChild(button);
}

// ---- the member list: filters that apply as they are chosen --------------------------------

let listRequest = null;

// The list's URL for the filter form's current values (empty ones left out).
function filterUrl(form) {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (v !== "") params.append(k, v);
  const q = params.toString();
  return form.getAttribute("action").split("?")[0] + (q ? "?" + q : "");
}

// Fetches the Organization page at `url` and swaps in its member list (and filter values);
// `how` is "push" (a new history entry), "replace" or "none" (going back or forward).
async function loadList(url, how) {
  const list = document.getElementById("member-list");
  if (!list) return;
  if (listRequest) listRequest.abort();
  const request = new AbortController();
  listRequest = request;
  list.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(url, { credentials: "same-origin", signal: request.signal });
    const html = await res.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const fresh = doc.getElementById("member-list");
    if (!res.ok || !fresh) {
      say("The list could not be loaded (" + res.status + ").", true);
      return;
    }
    list.replaceWith(fresh);
    const form = document.getElementById("member-filter");
    const freshForm = doc.getElementById("member-filter");
    if (form && freshForm && how === "none") {
      for (const el of form.elements) {
        const other = el.name && freshForm.elements.namedItem(el.name);
        if (other && "value" in other) el.value = other.value;
      }
    }
    if (how === "push") history.pushState({ list: true }, "", url);
    else if (how === "replace") history.replaceState({ list: true }, "", url);
    localTimes(fresh);
    updateSelection();
  } catch (e) {
    if (e.name !== "AbortError") say("The server could not be reached.", true);
  } finally {
    if (listRequest === request) listRequest = null;
    const now = document.getElementById("member-list");
    if (now) now.setAttribute("aria-busy", "false");
  }
}

function liveFilters(form) {
  let timer = null;
  let typing = false;
  form.addEventListener("change", (e) => {
    if (e.target.matches("select")) loadList(filterUrl(form), "push");
  });
  const search = form.querySelector('input[type="search"]');
  if (search) {
    // The first keystroke of a search makes a history entry; the rest refine it.
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        loadList(filterUrl(form), typing ? "replace" : "push");
        typing = true;
      }, 250);
    });
    search.addEventListener("blur", () => { typing = false; });
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(timer);
    loadList(filterUrl(form), "push");
  });
  window.addEventListener("popstate", () => loadList(location.href, "none"));
}

// ---- bulk actions ------------------------------------------------------------------------

function picks() {
  return Array.from(document.querySelectorAll("#members input.pick"));
}

// Says how many are selected, and keeps "select this page" in step with the row boxes.
function updateSelection() {
  const boxes = picks();
  const ticked = boxes.filter((b) => b.checked).length;
  const all = document.getElementById("bulk-all");
  const page = document.getElementById("select-page");
  if (page) {
    page.checked = boxes.length > 0 && ticked === boxes.length;
    page.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  const note = document.getElementById("bulk-selected");
  if (!note) return;
  if (all && all.checked) {
    note.textContent = "All " + (document.getElementById("member-count")?.dataset.count || "") + " matching members selected";
  } else {
    note.textContent = ticked ? ticked + " selected" : "";
  }
}

// Runs the bulk form one batch at a time, showing progress, then the summary with every
// refusal and its reason; the list is read again afterwards.
async function runBulk(form) {
  const action = form.elements.namedItem("action").value;
  const all = form.elements.namedItem("all")?.checked;
  const ticked = picks().filter((b) => b.checked).map((b) => b.value);
  const total = all ? Number(document.getElementById("member-count")?.dataset.count || 0) : ticked.length;
  const result = document.getElementById("bulk-result");
  if (!action) return say("Choose what to do with the selected members.", true);
  if (!total) return say("Select at least one member.", true);
  const actionName = form.elements.namedItem("action").selectedOptions[0].textContent.trim();
  if (action === "delete" && !window.confirm("Delete " + total + " member" + (total === 1 ? "" : "s") + "? Their work stays and shows as \"Deleted User\"; to come back they need a new invite.")) return;
  const button = document.getElementById("bulk-apply");
  button.disabled = true;
  const done = { changed: 0, unchanged: 0, refused: [] };
  let after = "";
  let last = null;
  try {
    do {
      const body = new URLSearchParams({ csrf_token: csrfToken(), action, back: form.elements.namedItem("back").value, max_batches: "1" });
      if (action === "delete") body.set("confirm", "delete"); // confirmed in the dialog above
      if (all) body.set("all", "1");
      else body.set("users", ticked.join(","));
      if (after) body.set("after", after);
      const res = await fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
        body,
        credentials: "same-origin",
      });
      last = await res.json().catch(() => ({}));
      if (!res.ok) {
        say(last.detail || "The action was refused (" + res.status + ").", true);
        break;
      }
      done.changed += last.changed.length;
      done.unchanged += last.unchanged.length;
      done.refused.push(...last.refused);
      showSeats(last);
      after = last.next || "";
      const decided = done.changed + done.unchanged + done.refused.length;
      say(actionName + ": " + decided.toLocaleString() + " of " + total.toLocaleString() + " decided" + (after ? "…" : "."), false);
    } while (after);
  } catch (e) {
    say("The server could not be reached; batches already done stay done.", true);
  } finally {
    button.disabled = false;
  }
  if (!last || last.detail) return;
  const lines = [done.changed + " changed", done.unchanged ? done.unchanged + " already so" : "", done.refused.length ? done.refused.length + " refused" : ""].filter(Boolean);
  result.replaceChildren();
  const head = document.createElement("p");
  head.textContent = actionName + ": " + lines.join(", ") + ".";
  result.appendChild(head);
  if (done.refused.length) {
    const list = document.createElement("ul");
    list.className = "refused";
    for (const r of done.refused) {
      const item = document.createElement("li");
      item.textContent = (r.email || "user " + r.user_id) + ": " + r.reason;
      list.appendChild(item);
    }
    result.appendChild(list);
  }
  result.hidden = false;
  say(head.textContent, done.refused.length > 0 && done.changed === 0);
  await loadList(location.href, "none");
  result.focus();
}

function bulkActions() {
  document.addEventListener("change", (e) => {
    if (e.target.id === "select-page") {
      for (const b of picks()) b.checked = e.target.checked;
      updateSelection();
    } else if (e.target.matches("#members input.pick, #bulk-all")) {
      updateSelection();
    }
  });
  document.addEventListener("submit", (e) => {
    if (e.target.id === "bulk-form") {
      e.preventDefault();
      runBulk(e.target);
    }
  });
}

// ---- times ---------------------------------------------------------------------------------

// <time datetime=... data-exact> shows a relative time; its hover text becomes the exact time in
// the viewer's own time zone.
function localTimes(root) {
  for (const t of root.querySelectorAll("time[data-exact]")) {
    const at = new Date(t.getAttribute("datetime"));
    if (!isNaN(at)) t.title = at.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
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
  // Delegated: the member list is swapped when a filter changes.
  document.addEventListener("change", (e) => {
    if (e.target.matches("select.role-select")) applyRole(e.target);
  });
  const filters = document.getElementById("member-filter");
  if (filters) liveFilters(filters);
  if (document.getElementById("bulk-form")) bulkActions();
  updateSelection();
  localTimes(document);
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
