import { afterPinned } from "./organise.js";

// The conversation list: pinned ones first, then the newest.
export function addConversation(list, { id, title, url }) {
  if (list.querySelector(`a[data-conversation-id="${Number(id)}"]`)) return;
  for (const link of list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
  const item = document.createElement("li");
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

// On a narrow screen the list folds away behind a button.
export function sidebarToggle(button, sidebar) {
  const setOpen = (open) => {
    button.setAttribute("aria-expanded", String(open));
    sidebar.classList.toggle("open", open);
  };
  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  sidebar.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && sidebar.classList.contains("open")) {
      event.preventDefault();
      setOpen(false);
      button.focus();
    }
  });
}
