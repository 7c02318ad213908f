// A Copy button for MessageTools: the message's text (its markdown) to the clipboard.
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
    const text = content ? markdownSource(content) : "";
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Copy failed";
    }
    setTimeout(() => {
      copy.textContent = "Copy";
    }, 1500);
  });
  tools.append(copy);
}
