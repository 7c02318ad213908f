// The conversation's settings panel, a <dialog>. Saved over HTTP (CSRF token from the page's
// config); for a conversation not started yet the server only checks them, and the first
// send carries them.
import { postJson } from "./http.js";

const NUMBER_FIELDS = [
  "temperature",
  "top_p",
  "max_completion_tokens",
  "presence_penalty",
  "frequency_penalty",
  "seed",
];

export class SettingsPanel {
  constructor({ dialog, form, errors, cancel, opener }, { url, csrfToken, initial }) {
    this.dialog = dialog;
    this.form = form;
    this.errors = errors;
    this.url = url;
    this.csrfToken = csrfToken;
    this.current = initial || {};
    opener.addEventListener("click", () => this.open());
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  // The settings a new conversation starts with, or null when none are set.
  forNewConversation() {
    const set = Object.entries(this.current).filter(([, value]) => value !== "" && value !== null);
    return set.length ? Object.fromEntries(set) : null;
  }

  // The conversation exists now: its settings are saved at this URL.
  conversationStarted(settingsUrl) {
    this.url = settingsUrl;
  }

  open() {
    const fields = this.form.elements;
    fields.system_prompt.value = this.current.system_prompt || "";
    for (const name of NUMBER_FIELDS) fields[name].value = this.current[name] ?? "";
    fields.reasoning_effort.value = this.current.reasoning_effort || "";
    fields.stop.value = (this.current.stop || []).join("\n");
    fields.json_mode.checked = Boolean(this.current.json_mode);
    this.errors.replaceChildren();
    this.dialog.showModal();
  }

  read() {
    const fields = this.form.elements;
    const data = {
      system_prompt: fields.system_prompt.value,
      reasoning_effort: fields.reasoning_effort.value,
      stop: fields.stop.value.split("\n").filter((line) => line !== ""),
      json_mode: fields.json_mode.checked,
    };
    // Sent as typed: the server checks them and says what is wrong.
    for (const name of NUMBER_FIELDS) data[name] = fields[name].value.trim();
    return data;
  }

  async save() {
    this.errors.replaceChildren();
    const reply = await postJson(this.url, this.read(), this.csrfToken);
    if (!reply.answered) {
      this.showErrors(["The settings could not be saved: the server did not answer."]);
      return;
    }
    if (!reply.ok || !reply.data.ok) {
      const errors = reply.data.errors || { error: `The settings were refused (${reply.status}).` };
      this.showErrors(Object.values(errors));
      return;
    }
    this.current = reply.data.settings;
    this.dialog.close();
  }

  showErrors(messages) {
    for (const text of messages) {
      const item = document.createElement("li");
      item.textContent = text;
      this.errors.append(item);
    }
  }
}
