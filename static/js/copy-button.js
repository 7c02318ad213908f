// A Copy button for MessageTools: the message's text (its markdown) to the clipboard.
import { copyWithFeedback } from "./clipboard.js";
import { markdownSource } from "./markdown.js";

export function addCopyButton(el, tools) {
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "tool-button copy-button";
  copy.textContent = "Copy";
  copy.title = "Copy this message";
  copy.setAttribute("aria-label", "Copy this message");
  copy.addEventListener("click", async () => {
    const content = el.querySelector(".message-content");
    await copyWithFeedback(copy, content ? markdownSource(content) : "");
  });
  tools.append(copy);
}
