import { formatDate, gettext } from "./i18n.js";
import { afterPinned } from "./organise.js";

// The conversation list: pinned ones first, then the newest.
export function addConversation(list, { id, title, url }) {
  if (list.querySelector(`a[data-conversation-id="${Number(id)}"]`)) return;
  for (const link of list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
  const item = document.createElement("li");
  item.dataset.updated = new Date().toISOString(); // active now: it goes under Today
  const link = document.createElement("a");
  link.href = url;
  link.dataset.conversationId = String(id);
  link.textContent = title; // the server names every conversation, "New conversation" included
  link.setAttribute("aria-current", "page");
  item.append(link);
  afterPinned(list, item);
}

// A conversation's new title, on its link in the list (if the list shows it).
export function setConversationTitle(list, { id, title }) {
  const link = list.querySelector(`a[data-conversation-id="${Number(id)}"]`);
  if (link) link.textContent = title;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Which group a conversation of the list is in: Pinned, or by when it was last active,
// in the reader's own calendar: [key, heading].
function groupOf(item, today) {
  if (item.classList.contains("pinned")) return ["pinned", gettext("Pinned")];
  const updated = item.dataset.updated ? new Date(item.dataset.updated) : new Date();
  if (Number.isNaN(updated.getTime())) return ["today", gettext("Today")];
  const day = new Date(updated.getFullYear(), updated.getMonth(), updated.getDate());
  const daysAgo = Math.round((today - day) / DAY_MS);
  if (daysAgo <= 0) return ["today", gettext("Today")];
  if (daysAgo === 1) return ["yesterday", gettext("Yesterday")];
  if (daysAgo <= 7) return ["week", gettext("Previous 7 days")];
  if (daysAgo <= 30) return ["month", gettext("Previous 30 days")];
  const month = `${updated.getFullYear()}-${updated.getMonth()}`;
  return [month, formatDate(updated, { month: "long", year: "numeric" })];
}

// Headings over the list's date groups, drawn again whenever the list changes (a new
// conversation, one pinned, archived or restored). Each heading goes inside the first
// item of its group, so the list holds only its items.
export function groupByDate(list) {
  const draw = () => {
    const now = new Date();
    const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    let previous = null;
    for (const item of list.children) {
      item.querySelector(":scope > .group-heading")?.remove();
      const [key, label] = groupOf(item, today);
      if (key === previous) continue;
      previous = key;
      const heading = document.createElement("h2");
      heading.className = "group-heading";
      heading.textContent = label;
      item.prepend(heading);
    }
  };
  draw();
  new MutationObserver(draw).observe(list, { childList: true });
}

// On a narrow screen the list folds away behind a button, and opens over the page like a
// drawer: the focus goes into it, and Escape (wherever the focus is) or a tap beside it
// closes it. Escape is taken before the page's own use of it (stopping an answer).
export function sidebarToggle(button, sidebar) {
  const isOpen = () => sidebar.classList.contains("open");
  const setOpen = (open) => {
    button.setAttribute("aria-expanded", String(open));
    sidebar.classList.toggle("open", open);
    if (open) sidebar.querySelector("a[href], button, input")?.focus();
  };
  button.addEventListener("click", () => setOpen(!isOpen()));
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Escape" || !isOpen()) return;
      event.preventDefault();
      setOpen(false);
      button.focus();
    },
    true,
  );
  document.addEventListener("click", (event) => {
    if (isOpen() && !sidebar.contains(event.target) && !button.contains(event.target)) setOpen(false);
  });
}
