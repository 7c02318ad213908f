// A shared conversation: its messages come as plain text, rendered here to sanitised
// markdown exactly as on the chat page.
import { copyCodeOnClick, renderMarkdown } from "./markdown.js";

const messages = document.getElementById("messages");
for (const content of messages.querySelectorAll(".message-content")) {
  content.replaceChildren(renderMarkdown(content.textContent));
  // A citation opens its document on the chat page; the documents are not shared.
  for (const citation of content.querySelectorAll("button.citation")) {
    citation.replaceWith(citation.textContent);
  }
}
copyCodeOnClick(messages);
