// Presets in the settings dialog: start from one (its settings fill the form, its model
// is chosen), save what the form and the picker hold as a new one, delete one's own.
import { postJson } from "./http.js";
import { format, gettext } from "./i18n.js";

export class Presets {
  constructor({ choice, remove, name, save, status }, { panel, picker, presets, urls, csrfToken }) {
    Object.assign(this, { choice, remove, name, status, panel, picker, urls, csrfToken });
    this.presets = new Map();
    for (const preset of presets) this.add(preset);
    choice.addEventListener("change", () => this.apply());
    remove.addEventListener("click", () => this.delete());
    save.addEventListener("click", () => this.save());
  }

  add(preset) {
    this.presets.set(String(preset.id), preset);
    const label = preset.published
      ? format(gettext("%(name)s (from the site)"), { name: preset.name })
      : preset.name;
    this.choice.append(new Option(label, String(preset.id)));
  }

  chosen() {
    return this.presets.get(this.choice.value) ?? null;
  }

  apply() {
    const preset = this.chosen();
    this.remove.hidden = !preset || preset.published;
    if (!preset) return;
    this.panel.fill(preset.settings);
    if (preset.model) this.picker.choose(preset.model);
    this.say(format(gettext("“%(name)s” is in the form: Save to use it."), { name: preset.name }));
  }

  async save() {
    const body = { name: this.name.value, settings: this.panel.read(), ...this.picker.selected() };
    delete body.settings.tools; // tools are the user's to choose in each conversation
    const reply = await postJson(this.urls.presets, body, this.csrfToken);
    if (!reply.answered || !reply.ok) return this.say(gettext("The preset could not be saved. Try again."));
    if (!reply.data.ok) return this.say(Object.values(reply.data.errors).join(" "));
    this.add(reply.data.preset);
    this.choice.value = String(reply.data.preset.id);
    this.remove.hidden = false;
    this.name.value = "";
    this.say(format(gettext("Saved as “%(name)s”."), { name: reply.data.preset.name }));
  }

  async delete() {
    const preset = this.chosen();
    if (!preset || preset.published) return;
    const url = this.urls.presetDelete.replace("{id}", encodeURIComponent(String(preset.id)));
    const reply = await postJson(url, {}, this.csrfToken);
    if (!reply.ok || !reply.data.ok) return this.say(gettext("The preset could not be deleted. Reload and try again."));
    this.presets.delete(String(preset.id));
    this.choice.querySelector(`option[value="${Number(preset.id)}"]`)?.remove();
    this.choice.value = "";
    this.remove.hidden = true;
    this.say(format(gettext("“%(name)s” is deleted."), { name: preset.name }));
  }

  say(text) {
    this.status.textContent = text;
  }
}
