// The model picker: choices from the server's models view (the providers' lists, cached
// there), the conversation's model selected, or the site's default.
import { getJson } from "./http.js";
import { format, gettext } from "./i18n.js";

export class ModelPicker {
  constructor(select, refreshButton, { url, current }) {
    this.select = select;
    this.url = url;
    this.current = current; // {provider, model} of the conversation, or null
    this.choices = [];
    refreshButton.addEventListener("click", () => this.load(true));
  }

  async load(refresh = false) {
    this.select.disabled = true;
    const reply = await getJson(this.url, refresh ? { refresh: "1" } : {});
    if (!reply.ok) {
      this.unavailable(
        reply.answered
          ? format(gettext("Error: HTTP %(status)s"), { status: reply.status })
          : gettext("The server did not answer."),
      );
      return;
    }
    try {
      this.fill(reply.data);
    } catch (error) {
      this.unavailable(String(error));
    }
  }

  unavailable(why) {
    this.select.replaceChildren(new Option(gettext("Models unavailable"), ""));
    this.select.title = why;
  }

  fill({ models, default: fallback, errors }) {
    const previous = this.selected();
    const wanted = previous ?? this.current ?? fallback;
    this.choices = models;
    const options = models.map((choice, index) => {
      const label = models.some((m) => m.provider !== choice.provider)
        ? `${choice.model} · ${choice.provider_title}`
        : choice.model;
      return new Option(label, String(index));
    });
    if (!options.length) options.push(new Option(gettext("No models offered"), ""));
    this.select.replaceChildren(...options);
    const index = models.findIndex(
      (m) => wanted && m.provider === wanted.provider && m.model === wanted.model,
    );
    if (index >= 0) this.select.value = String(index);
    this.select.disabled = !models.length;
    this.select.title = errors.length ? errors.join("\n") : "";
  }

  // Select this model, if offered (before the list is loaded: once it is).
  choose(wanted) {
    const index = this.choices.findIndex((m) => m.provider === wanted.provider && m.model === wanted.model);
    if (index >= 0) this.select.value = String(index);
    else if (!this.choices.length) this.current = wanted;
  }

  // {provider, model} to send, or null to keep the conversation's model.
  selected() {
    const choice = this.choices[Number(this.select.value)];
    return this.select.value !== "" && choice ? { provider: choice.provider, model: choice.model } : null;
  }
}
