// Share the conversation shown: a dialog that makes a read-only link to the branch on
// the page, and copies it.
import { copyWithFeedback } from "./clipboard.js";
import { postJson } from "./http.js";
import { gettext } from "./i18n.js";

export class ShareDialog {
  constructor({ opener, dialog, form, images, everyone, error, made, link, copy, close }, { conversation, csrfToken }) {
    Object.assign(this, { dialog, images, everyone, error, made, link, copy, conversation, csrfToken });
    this.create = form.querySelector("#share-create");
    opener.addEventListener("click", () => this.open());
    close.addEventListener("click", () => dialog.close());
    copy.addEventListener("click", () => copyWithFeedback(copy, link.value));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.share();
    });
  }

  open() {
    this.made.hidden = true;
    this.copy.hidden = true;
    this.create.hidden = false;
    this.showError("");
    this.dialog.showModal();
  }

  async share() {
    const body = { include_images: this.images.checked, public: Boolean(this.everyone?.checked) };
    const reply = await postJson(this.conversation.urls.share, body, this.csrfToken);
    if (!reply.answered || !reply.ok || !reply.data.ok) {
      this.showError(reply.data?.error || gettext("The link could not be made. Reload and try again."));
      return;
    }
    this.link.value = reply.data.share.url;
    this.made.hidden = false;
    this.copy.hidden = false;
    this.create.hidden = true;
    this.link.select();
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}
