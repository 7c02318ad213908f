// Images and documents for the next message: chosen with the file button, pasted or
// dropped. Each is uploaded at once (the server checks what it really is: an allowed image,
// or a document whose text it reads) and shown in the tray; the send names their ids. A
// refused file says why and leaves the typed text alone.
import { documentChip } from "./documents.js";
import { postForm } from "./http.js";
import { format, formatNumber, gettext } from "./i18n.js";

// Megabytes with one decimal, written the reader's way ("1.5", "1,5").
function megabytes(bytes) {
  // Always one decimal, as the server writes it ("6.0", not "6").
  const digits = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
  return formatNumber(Math.round(bytes / 104857.6) / 10, digits);
}

// A file's name before what is said of it; the colon is the translators' to place.
function aboutFile(name, text) {
  return format(gettext("%(name)s: %(text)s"), { name, text });
}

export class AttachmentTray {
  // tooLarge: the server's refusal text (in the page's language), with {size} and {limit}
  // in megabytes.
  constructor({ form, input, fileInput, button, tray, error, url, csrfToken, maxBytes, tooLarge, imageTypes, documents }) {
    this.form = form;
    this.tray = tray;
    this.error = error;
    this.url = url;
    this.csrfToken = csrfToken;
    this.maxBytes = maxBytes;
    this.tooLarge = tooLarge;
    this.imageTypes = imageTypes;
    // { url, maxBytes, preview }: where documents go, and how their chips open.
    this.documents = documents;
    this.uploading = 0;
    button.addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", () => {
      this.addFiles(fileInput.files);
      fileInput.value = "";
    });
    input.addEventListener("paste", (event) => {
      const files = event.clipboardData?.files;
      if (files && files.length) {
        event.preventDefault();
        this.addFiles(files);
      }
    });
    form.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes("Files")) {
        event.preventDefault();
        form.classList.add("dropping");
      }
    });
    form.addEventListener("dragleave", () => form.classList.remove("dropping"));
    form.addEventListener("drop", (event) => {
      form.classList.remove("dropping");
      if (event.dataTransfer?.files.length) {
        event.preventDefault();
        this.addFiles(event.dataTransfer.files);
      }
    });
  }

  get busy() {
    return this.uploading > 0;
  }

  ids() {
    return [...this.tray.querySelectorAll(".attachment-chip")].map((chip) => Number(chip.dataset.attachmentId));
  }

  documentIds() {
    return [...this.tray.querySelectorAll(".document-chip")].map((chip) => Number(chip.dataset.documentId));
  }

  // After a send: the images go with it, but are kept until it is accepted.
  clear() {
    this.lastSent = [...this.tray.children];
    this.tray.replaceChildren();
    this.tray.hidden = true;
    this.showError("");
  }

  // The server refused the last send: its images come back unless new ones were added.
  restore() {
    if (this.lastSent?.length && !this.tray.children.length) {
      this.tray.append(...this.lastSent);
      this.tray.hidden = false;
    }
    this.lastSent = null;
  }

  addFiles(files) {
    this.showError("");
    for (const file of files) {
      if (this.imageTypes.includes(file.type)) this.upload(file);
      else this.uploadDocument(file);
    }
  }

  async uploadDocument(file) {
    if (file.size > this.documents.maxBytes) {
      const text = format(gettext("%(size)s MB is more than documents may be (%(limit)s MB)."), {
        size: megabytes(file.size),
        limit: megabytes(this.documents.maxBytes),
      });
      this.showError(aboutFile(file.name, text));
      return;
    }
    const reply = await this.send(this.documents.url, file, "pasted.txt", gettext("The pasted file"));
    if (reply) this.addDocument(reply.document);
  }

  // One file to the server; its reply, or null once its refusal is shown.
  async send(url, file, defaultName, shownAs) {
    this.uploading += 1;
    const body = new FormData();
    body.append("file", file, file.name || defaultName);
    const answer = await postForm(url, body, this.csrfToken);
    this.uploading -= 1;
    const reply = !answer.answered
      ? { ok: false, error: gettext("The upload failed: the server did not answer.") }
      : answer.ok
        ? answer.data
        : { ok: false, error: format(gettext("The server refused (%(status)s)."), { status: answer.status }) };
    if (reply.ok) return reply;
    this.showError(aboutFile(file.name || shownAs, reply.error));
    return null;
  }

  // A document in the tray, from an upload or from the library (once).
  addDocument(document) {
    if (this.documentIds().includes(document.id)) return;
    const chip = documentChip(document, this.documents.preview, (removed) => {
      removed.remove();
      this.tray.hidden = !this.tray.children.length;
    });
    this.tray.append(chip);
    this.tray.hidden = false;
  }

  async upload(file) {
    if (file.size > this.maxBytes) {
      const size = megabytes(file.size);
      const text = this.tooLarge.replace("{size}", size).replace("{limit}", megabytes(this.maxBytes));
      this.showError(aboutFile(file.name, text));
      return;
    }
    const reply = await this.send(this.url, file, "pasted-image", gettext("The pasted image"));
    if (reply) this.addChip(reply.attachment);
  }

  addChip({ id, url, name }) {
    const chip = document.createElement("figure");
    chip.className = "attachment-chip";
    chip.dataset.attachmentId = String(id);
    const image = document.createElement("img");
    image.src = url;
    image.alt = name || gettext("Attached image");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "attachment-remove";
    remove.textContent = "×";
    remove.setAttribute(
      "aria-label",
      name ? format(gettext("Remove %(name)s"), { name }) : gettext("Remove the image"),
    );
    remove.addEventListener("click", () => {
      chip.remove();
      this.tray.hidden = !this.tray.children.length;
    });
    chip.append(image, remove);
    this.tray.append(chip);
    this.tray.hidden = false;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}

// The images of a sent message, as thumbnails linking to the full image.
export function showThumbnails(el, attachments) {
  if (!el || !attachments?.length || el.querySelector(":scope > .message-images")) return;
  const images = document.createElement("div");
  images.className = "message-images";
  for (const { url, name } of attachments) {
    const link = document.createElement("a");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    const image = document.createElement("img");
    image.src = url;
    image.alt = name || gettext("Attached image");
    image.loading = "lazy";
    link.append(image);
    images.append(link);
  }
  el.querySelector(".message-content").after(images);
}
