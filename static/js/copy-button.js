// A Copy button for MessageTools: the message's text (its markdown) to the clipboard.
import { copyWithFeedback } from "./clipboard.js";
import { gettext } from "./i18n.js";
import { markdownSource } from "./markdown.js";

export function addCopyButton(el, tools) {
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "tool-button copy-button icon-copy";
  // Its name is its text (axe: a name must contain what is shown); the tooltip says more.
  copy.textContent = gettext("Copy");
  copy.title = gettext("Copy this message");
  copy.addEventListener("click", async () => {
    const content = el.querySelector(".message-content");
    await copyWithFeedback(copy, content ? markdownSource(content) : "");
  });
  tools.append(copy);
}
