// The conversation list: newest first.
export function addConversation(list, { id, title, url }) {
  if (list.querySelector(`a[data-conversation-id="${Number(id)}"]`)) return;
  for (const link of list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = url;
  link.dataset.conversationId = String(id);
  link.textContent = title || "New conversation";
  link.setAttribute("aria-current", "page");
  item.append(link);
  list.prepend(item);
}
