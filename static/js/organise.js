// Pin the conversation shown to the top of the list, archive it out of the list or
// restore it; and the list's Archived section, read from the server when it is opened.
import { getJson, postJson } from "./http.js";
import { gettext } from "./i18n.js";

export class PinAndArchive {
  constructor({ pin, archive, note, list }, { conversation, csrfToken }) {
    this.pin = pin;
    this.archive = archive;
    this.note = note;
    this.list = list; // the sidebar's conversation list
    this.conversation = conversation; // a CurrentConversation
    this.csrfToken = csrfToken;
    pin.addEventListener("click", () => this.setPinned(pin.getAttribute("aria-pressed") !== "true"));
    archive.addEventListener("click", () => this.setArchived(archive.dataset.archived !== "true"));
  }

  async setPinned(pinned) {
    const reply = await this.post(this.conversation.urls.pin, { pinned });
    if (!reply) return;
    this.pin.setAttribute("aria-pressed", String(reply.pinned));
    const item = this.item();
    if (!item) return;
    item.classList.toggle("pinned", reply.pinned);
    item.querySelector(".pin-mark")?.remove();
    if (reply.pinned) {
      item.append(pinMark());
      this.list.prepend(item); // the most recently pinned first
    } else {
      inPlace(this.list, item); // among the others by its date: the list regroups
    }
  }

  async setArchived(archived) {
    const reply = await this.post(this.conversation.urls.archive, { archived });
    if (!reply) return;
    this.archive.dataset.archived = String(reply.archived);
    this.archive.textContent = reply.archived ? gettext("Restore") : gettext("Archive");
    this.archive.classList.toggle("icon-archive", !reply.archived);
    this.archive.classList.toggle("icon-archive-restore", reply.archived);
    this.note.hidden = !reply.archived;
    if (reply.archived) {
      this.pin.setAttribute("aria-pressed", "false");
      this.item()?.remove();
    } else if (!this.item()) {
      const { id, title } = this.conversation;
      const item = document.createElement("li");
      item.dataset.updated = reply.updated; // restoring keeps its date, and its place
      const link = document.createElement("a");
      link.href = this.conversation.urls.page;
      link.dataset.conversationId = String(id);
      link.textContent = title;
      link.setAttribute("aria-current", "page");
      item.append(link);
      inPlace(this.list, item);
    }
  }

  item() {
    return this.list.querySelector(`a[data-conversation-id="${Number(this.conversation.id)}"]`)?.parentElement;
  }

  async post(url, body) {
    const reply = await postJson(url, body, this.csrfToken);
    return reply.ok && reply.data.ok ? reply.data : null;
  }
}

// A conversation that is not pinned goes after the pinned ones, before the first one
// written in longer ago (the list is newest first, as the server orders it).
function inPlace(list, item) {
  const updated = Date.parse(item.dataset.updated);
  const later = [...list.children].find(
    (other) => other !== item && !other.classList.contains("pinned") && Date.parse(other.dataset.updated) < updated,
  );
  if (later) later.before(item);
  else list.append(item);
}

// A new conversation goes first after the pinned ones.
export function afterPinned(list, item) {
  const pinned = list.querySelectorAll("li.pinned");
  if (pinned.length) pinned[pinned.length - 1].after(item);
  else list.prepend(item);
}

function pinMark() {
  const mark = document.createElement("span");
  mark.className = "pin-mark";
  mark.textContent = gettext("Pinned");
  return mark;
}

// The Archived section: its list read each time it is opened.
export function archivedSection(section, list, { url }) {
  section.addEventListener("toggle", async () => {
    if (!section.open) return;
    const reply = await getJson(url);
    const conversations = (reply.ok && reply.data.conversations) || [];
    const items = conversations.map(({ id, title, url: page }) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = page;
      link.dataset.archivedId = String(id);
      link.textContent = title;
      item.append(link);
      return item;
    });
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "search-empty";
      empty.textContent = reply.ok
        ? gettext("No archived conversations.")
        : gettext("The list could not be read.");
      items.push(empty);
    }
    list.replaceChildren(...items);
  });
}

// The conversation's Project menu: choosing one moves the conversation there at once.
export function projectMove(select, { conversation, csrfToken }) {
  select.dataset.current = select.value; // where it is: a drop on a project changes it too
  select.addEventListener("change", async () => {
    const projectId = select.value ? Number(select.value) : null;
    const reply = await postJson(conversation.urls.move, { project_id: projectId }, csrfToken);
    if (reply.ok && reply.data.ok) select.dataset.current = select.value;
    else select.value = select.dataset.current; // refused: the menu says where it still is
  });
}

const DRAGGED = "application/x-chatsite-conversation";

// Drag a conversation of the list onto a project to move it there (the Project menu does
// the same from the keyboard).
export function projectDrops(list, projects, { urlTemplates, csrfToken, menu, current }) {
  list.addEventListener("dragstart", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-conversation-id]") : null;
    if (link) event.dataTransfer.setData(DRAGGED, link.dataset.conversationId);
  });
  for (const target of projects.querySelectorAll("a[data-project-id]")) {
    target.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes(DRAGGED)) return;
      event.preventDefault();
      target.classList.add("drop-target");
    });
    target.addEventListener("dragleave", () => target.classList.remove("drop-target"));
    target.addEventListener("drop", async (event) => {
      event.preventDefault();
      target.classList.remove("drop-target");
      const id = Number(event.dataTransfer.getData(DRAGGED));
      if (!id) return;
      const projectId = Number(target.dataset.projectId);
      const url = urlTemplates.move.replace("{id}", encodeURIComponent(String(id)));
      const reply = await postJson(url, { project_id: projectId }, csrfToken);
      const moved = reply.ok && reply.data.ok;
      target.classList.add(moved ? "dropped" : "drop-refused");
      setTimeout(() => target.classList.remove("dropped", "drop-refused"), 1200);
      if (moved && current.id === id) menu.value = menu.dataset.current = String(projectId);
    });
  }
}
