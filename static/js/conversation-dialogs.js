// Rename and delete the conversation shown, each in a <dialog>: delete is confirmed first.
import { postJson } from "./http.js";
import { format, gettext } from "./i18n.js";

export class RenameDialog {
  constructor({ opener, dialog, form, input, error, cancel }, { conversation, csrfToken }) {
    this.dialog = dialog;
    this.input = input;
    this.error = error;
    this.conversation = conversation; // a CurrentConversation
    this.csrfToken = csrfToken;
    opener.addEventListener("click", () => this.open());
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.rename();
    });
  }

  open() {
    this.input.value = this.conversation.title;
    showError(this.error, "");
    this.dialog.showModal();
    this.input.select();
  }

  async rename() {
    const { id, urls } = this.conversation;
    const reply = await post(urls.rename, { title: this.input.value }, this.csrfToken);
    if (!reply.ok) {
      showError(this.error, reply.error);
      return;
    }
    this.conversation.setTitle({ id, title: reply.title });
    this.dialog.close();
  }
}

export class DeleteDialog {
  constructor({ opener, dialog, name, error, confirm, cancel }, { conversation, csrfToken }) {
    this.dialog = dialog;
    this.name = name;
    this.error = error;
    this.conversation = conversation; // a CurrentConversation
    this.csrfToken = csrfToken;
    opener.addEventListener("click", () => this.open());
    cancel.addEventListener("click", () => dialog.close());
    confirm.addEventListener("click", () => this.delete());
  }

  open() {
    this.name.textContent = this.conversation.title;
    showError(this.error, "");
    this.dialog.showModal();
  }

  async delete() {
    const reply = await post(this.conversation.urls.delete, {}, this.csrfToken);
    if (!reply.ok) {
      showError(this.error, reply.error);
      return;
    }
    location.assign(reply.url);
  }
}

// The server's { ok, ... } answer, or { ok: false, error } saying why there is none.
async function post(url, body, csrfToken) {
  const reply = await postJson(url, body, csrfToken);
  if (!reply.answered) return { ok: false, error: gettext("The server did not answer. Try again.") };
  if (!reply.ok) {
    const error = format(gettext("The server refused (%(status)s). Reload and try again."), {
      status: reply.status,
    });
    return { ok: false, error };
  }
  return reply.data;
}

function showError(el, text) {
  el.textContent = text;
  el.hidden = !text;
}
