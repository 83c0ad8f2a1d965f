// roster's pages work without script; this file adds the small conveniences: role changes that
// apply at once, copying the invite link, and the delete confirmation as a modal dialog.
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

document.addEventListener("DOMContentLoaded", () => {
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
  const del = document.getElementById("delete-member");
  const dialog = document.getElementById("confirm-delete");
  if (del && dialog && typeof dialog.showModal === "function") {
    del.addEventListener("click", (e) => {
      e.preventDefault();
      if (dialog.open) dialog.close();
      dialog.showModal();
    });
    const cancel = document.getElementById("cancel-delete");
    if (cancel) {
      cancel.addEventListener("click", (e) => {
        e.preventDefault();
        dialog.close();
        del.focus();
      });
    }
  }
});
