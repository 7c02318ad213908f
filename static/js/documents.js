// Documents: their chips (name, pages, size) in the tray before a send and under the
// question that brought them, and a preview of the text the server read, page by page.
// Everything shown is set as text, never as HTML: a document's text is untrusted.
import { getJson, postJson } from "./http.js";
import { format, formatNumber, gettext, ngettext } from "./i18n.js";

// A passage's heading: "Page 3", "Slide 2", "Sheet Totals" (a whole document has none).
const UNIT_NAMES = {
  page: gettext("Page %(n)s"),
  slide: gettext("Slide %(n)s"),
  sheet: gettext("Sheet %(n)s"),
  document: "",
};

function unitCount(kind, pages) {
  const n = formatNumber(pages);
  if (kind === "pptx") return format(ngettext("%(n)s slide", "%(n)s slides", pages), { n });
  if (kind === "xlsx") return format(ngettext("%(n)s sheet", "%(n)s sheets", pages), { n });
  return format(ngettext("%(n)s page", "%(n)s pages", pages), { n });
}

export function documentMeta({ kind, pages, size }) {
  const amount =
    size < 1048576
      ? format(gettext("%(n)s KB"), { n: formatNumber(Math.max(1, Math.round(size / 1024))) })
      : format(gettext("%(n)s MB"), { n: formatNumber(Math.round(size / 104857.6) / 10) });
  return `${unitCount(kind, pages)} · ${amount}`;
}

// A chip that opens the document's preview; `onRemove` adds a remove button (the tray).
export function documentChip(document, preview, onRemove = null) {
  const chip = window.document.createElement("span");
  chip.className = "document-chip";
  chip.dataset.documentId = String(document.id);
  chip.dataset.name = document.name;
  chip.dataset.url = document.url;
  const open = window.document.createElement("button");
  open.type = "button";
  open.className = "document-open";
  const name = window.document.createElement("span");
  name.className = "document-name";
  name.textContent = document.name;
  const meta = window.document.createElement("span");
  meta.className = "document-meta";
  meta.textContent = documentMeta(document);
  open.append(name, meta);
  open.addEventListener("click", () => preview.open(document));
  chip.append(open);
  if (onRemove) {
    const remove = window.document.createElement("button");
    remove.type = "button";
    remove.className = "attachment-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", format(gettext("Remove %(name)s"), { name: document.name }));
    remove.addEventListener("click", () => onRemove(chip));
    chip.append(remove);
  }
  return chip;
}

// The documents a sent question brought, under its text.
export function showDocuments(el, documents, preview) {
  if (!el || !documents?.length || el.querySelector(":scope > .message-documents")) return;
  const list = window.document.createElement("div");
  list.className = "message-documents";
  for (const document of documents) list.append(documentChip(document, preview));
  el.querySelector(".message-content").after(list);
}

export class DocumentPreview {
  constructor({ dialog, title, body, close }) {
    this.dialog = dialog;
    this.title = title;
    this.body = body;
    close.addEventListener("click", () => dialog.close());
  }

  // A citation's button opens the document it names (one the conversation brought) at
  // the page, slide or sheet it names.
  openCitations(root) {
    root.addEventListener("click", (event) => {
      const citation = event.target.closest?.(".citation");
      if (!citation) return;
      const chip = [...window.document.querySelectorAll(".message-documents .document-chip")].find(
        (c) => c.dataset.name === citation.dataset.documentName,
      );
      if (!chip) return;
      this.open({ name: chip.dataset.name, url: chip.dataset.url }, citation.dataset.where);
    });
  }

  // `where`: "p. 3", "slide 2", or a sheet's name; the unit it names is shown first.
  async open({ name, url }, where = null) {
    const number = where === null ? null : (where.match(/\d+/)?.[0] ?? null);
    this.title.textContent = name;
    this.body.replaceChildren();
    this.dialog.showModal();
    const answer = await getJson(url);
    if (!answer.ok) {
      const error = window.document.createElement("p");
      error.className = "dialog-error";
      error.textContent = answer.data?.error || gettext("The document could not be opened.");
      this.body.append(error);
      return;
    }
    let target = null;
    let current = null;
    for (const passage of answer.data.passages) {
      const key = `${passage.unit}-${passage.n}`;
      if (!current || current.dataset.key !== key) {
        current = window.document.createElement("section");
        current.className = "document-unit";
        current.dataset.key = key;
        if (UNIT_NAMES[passage.unit]) {
          const heading = window.document.createElement("h3");
          heading.textContent = format(UNIT_NAMES[passage.unit], { n: passage.label || formatNumber(passage.n) });
          current.append(heading);
        }
        this.body.append(current);
        // As the document prints it ("p. iv", a sheet's name), else by its number.
        const said = where?.replace(/^(p\.|page|slide|sheet)\s*/i, "");
        const named = where !== null && (passage.label === said || (number !== null && String(passage.n) === number));
        if (named && !target) target = current;
      }
      const text = window.document.createElement("p");
      text.className = "document-text";
      text.textContent = passage.text;
      current.append(text);
    }
    if (target) {
      target.classList.add("cited");
      target.scrollIntoView({ block: "start" });
    }
  }
}

// The user's library: every document brought before, to add to the next message (it is
// read again from the library, not uploaded again) or to delete with its text and index.
export class DocumentLibrary {
  constructor({ dialog, list, empty, button, close, url, csrfToken, preview, onAdd }) {
    Object.assign(this, { dialog, list, empty, url, csrfToken, preview, onAdd });
    button.addEventListener("click", () => this.open());
    close.addEventListener("click", () => dialog.close());
  }

  async open() {
    this.list.replaceChildren();
    this.dialog.showModal();
    const answer = await getJson(this.url);
    const documents = answer.ok ? answer.data.documents : [];
    this.empty.hidden = documents.length > 0;
    for (const document of documents) this.list.append(this.item(document));
  }

  item(document) {
    const item = window.document.createElement("li");
    const add = window.document.createElement("button");
    add.type = "button";
    add.textContent = gettext("Add");
    add.setAttribute("aria-label", format(gettext("Add %(name)s to the message"), { name: document.name }));
    add.addEventListener("click", () => {
      this.onAdd(document);
      this.dialog.close();
    });
    const remove = window.document.createElement("button");
    remove.type = "button";
    remove.className = "danger-button";
    remove.textContent = gettext("Delete");
    remove.setAttribute("aria-label", format(gettext("Delete %(name)s"), { name: document.name }));
    remove.addEventListener("click", async () => {
      const answer = await postJson(document.delete_url, {}, this.csrfToken);
      if (answer.ok) item.remove();
      this.empty.hidden = this.list.children.length > 0;
    });
    item.append(documentChip(document, this.preview), add, remove);
    return item;
  }
}
