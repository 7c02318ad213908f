// The conversation's settings panel, a <dialog>. Saved over HTTP (CSRF token from the page's
// config); for a conversation not started yet the server only checks them, and the first
// send carries them.
import { postJson } from "./http.js";
import { format, gettext } from "./i18n.js";

const NUMBER_FIELDS = [
  "temperature",
  "top_p",
  "max_completion_tokens",
  "presence_penalty",
  "frequency_penalty",
  "seed",
];

export class SettingsPanel {
  constructor({ dialog, form, errors, cancel, opener }, { url, csrfToken, initial, tools = [] }) {
    this.dialog = dialog;
    this.toolBoxes = toolChoices(form, tools);
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
    this.fill(this.current);
    this.errors.replaceChildren();
    this.dialog.showModal();
  }

  // Show these settings in the form (Save keeps them); tools only if `values` names some.
  fill(values) {
    const fields = this.form.elements;
    fields.system_prompt.value = values.system_prompt || "";
    for (const name of NUMBER_FIELDS) fields[name].value = values[name] ?? "";
    fields.reasoning_effort.value = values.reasoning_effort || "";
    fields.stop.value = (values.stop || []).join("\n");
    fields.json_mode.checked = Boolean(values.json_mode);
    if (!("tools" in values)) return;
    const chosen = new Set(values.tools || []);
    for (const box of this.toolBoxes) box.checked = chosen.has(Number(box.value));
  }

  read() {
    const fields = this.form.elements;
    const data = {
      system_prompt: fields.system_prompt.value,
      reasoning_effort: fields.reasoning_effort.value,
      stop: fields.stop.value.split("\n").filter((line) => line !== ""),
      json_mode: fields.json_mode.checked,
      tools: this.toolBoxes.filter((box) => box.checked).map((box) => Number(box.value)),
    };
    // Sent as typed: the server checks them and says what is wrong.
    for (const name of NUMBER_FIELDS) data[name] = fields[name].value.trim();
    return data;
  }

  async save() {
    this.errors.replaceChildren();
    const reply = await postJson(this.url, this.read(), this.csrfToken);
    if (!reply.answered) {
      this.showErrors([gettext("The settings could not be saved: the server did not answer.")]);
      return;
    }
    if (!reply.ok || !reply.data.ok) {
      const errors = reply.data.errors || {
        error: format(gettext("The settings were refused (%(status)s)."), { status: reply.status }),
      };
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

// A checkbox per tool the user may choose (the server's list, in the page's config); the
// fieldset stays hidden when there are none.
function toolChoices(form, tools) {
  const fieldset = form.querySelector("#settings-tools");
  const list = form.querySelector("#settings-tool-list");
  const boxes = tools.map((tool) => {
    const label = document.createElement("label");
    label.className = "settings-check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "tools";
    box.value = String(tool.id);
    const named = tool.approval === "ask" ? format(gettext("%(tool)s (asks you before each call)"), { tool: tool.label }) : tool.label;
    label.append(box, ` ${named}`);
    if (tool.description) label.title = tool.description;
    list.append(label);
    return box;
  });
  fieldset.hidden = !boxes.length;
  return boxes;
}
