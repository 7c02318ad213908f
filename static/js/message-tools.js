// The tools under each message: flip between versions (‹ 2/3 ›), edit a question and send it
// again, regenerate an answer. Messages are decorated as they appear, so messages.js needs
// to know nothing of this. A whole branch arrives in a `branch` frame and replaces the list.
import { gettext } from "./i18n.js";
import { markdownSource } from "./markdown.js";

export class MessageTools {
  constructor(root, { messages, branches, onRegenerate, onEdit, onSelect, extraTools = [], onShown }) {
    this.root = root;
    this.messages = messages;
    this.onRegenerate = onRegenerate;
    this.onEdit = onEdit;
    this.onSelect = onSelect;
    this.extraTools = extraTools; // functions (el, tools) adding more buttons
    this.onShown = onShown; // (el, message) after a branch frame shows a message
    for (const el of root.querySelectorAll(".message")) {
      const siblings = branches?.[el.dataset.messageId];
      if (siblings) el.dataset.siblingIds = siblings.join(",");
      this.decorate(el);
    }
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node instanceof HTMLElement && node.classList.contains("message")) this.decorate(node);
        }
      }
    }).observe(root, { childList: true });
  }

  decorate(el) {
    if (el.querySelector(":scope > .message-tools")) return;
    const tools = document.createElement("div");
    tools.className = "message-tools";
    const nav = document.createElement("span");
    nav.className = "branch-nav";
    nav.setAttribute("role", "group");
    nav.setAttribute("aria-label", gettext("Versions"));
    const previous = iconButton(gettext("Previous version"), "branch-previous icon-chevron-left");
    const count = document.createElement("span");
    count.className = "branch-count";
    const next = iconButton(gettext("Next version"), "branch-next icon-chevron-right");
    previous.addEventListener("click", () => this.step(el, -1));
    next.addEventListener("click", () => this.step(el, 1));
    nav.append(previous, count, next);
    tools.append(nav);
    if (el.dataset.role === "user") {
      const edit = button(gettext("Edit"), gettext("Edit and send again"), "edit-button icon-pencil");
      edit.addEventListener("click", () => this.startEditing(el));
      tools.append(edit);
    } else if (el.dataset.role === "assistant") {
      const again = button(gettext("Regenerate"), gettext("Write this answer again"), "regenerate-button icon-refresh-cw");
      again.addEventListener("click", () => this.onRegenerate(Number(el.dataset.messageId)));
      tools.append(again);
    }
    for (const add of this.extraTools) add(el, tools);
    (el.querySelector(":scope > .message-images") || el.querySelector(".message-content")).after(tools);
    this.renderNav(el);
  }

  siblings(el) {
    return (el.dataset.siblingIds || "").split(",").filter(Boolean).map(Number);
  }

  renderNav(el) {
    const nav = el.querySelector(".branch-nav");
    if (!nav) return;
    const siblings = this.siblings(el);
    const index = siblings.indexOf(Number(el.dataset.messageId));
    nav.hidden = siblings.length < 2 || index < 0;
    nav.querySelector(".branch-count").textContent = `${index + 1}/${siblings.length}`;
    nav.querySelector(".branch-previous").disabled = index <= 0;
    nav.querySelector(".branch-next").disabled = index >= siblings.length - 1;
  }

  step(el, direction) {
    const siblings = this.siblings(el);
    const target = siblings[siblings.indexOf(Number(el.dataset.messageId)) + direction];
    if (target !== undefined) this.onSelect(target);
  }

  startEditing(el) {
    if (el.querySelector(".edit-form")) return;
    const content = el.querySelector(".message-content");
    const form = document.createElement("form");
    form.className = "edit-form";
    const input = document.createElement("textarea");
    input.className = "edit-input";
    input.setAttribute("aria-label", gettext("Edited message"));
    input.value = markdownSource(content);
    const send = button(gettext("Send"), gettext("Send the edited message"), "edit-send");
    send.type = "submit";
    const cancel = button(gettext("Cancel"), gettext("Keep the message as it was"), "edit-cancel");
    form.append(input, send, cancel);
    cancel.addEventListener("click", () => {
      form.remove();
      content.hidden = false;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      // The form stays until the new branch replaces it: a refusal loses nothing typed.
      if (input.value.trim()) this.onEdit(Number(el.dataset.messageId), input.value);
    });
    content.hidden = true;
    content.after(form);
    input.focus();
  }

  // The selected branch, whole: the list shows exactly these messages.
  showBranch(frame) {
    this.root.replaceChildren();
    for (const message of frame.messages) {
      this.messages.add(message);
      const el = this.messages.element(message.id);
      // A streaming answer's calls as last saved; its snapshot brings them up to date.
      if (message.status === "streaming") this.messages.showToolRuns(el, message.tool_runs);
      el.dataset.siblingIds = message.sibling_ids.join(",");
      if (message.status !== "streaming") {
        this.messages.done({ message_id: message.id, ...message });
      }
      this.onShown?.(el, message);
      this.decorate(el);
      this.renderNav(el);
    }
  }
}

// A button named by its text (axe: a name must contain what is shown); the tooltip says more.
function button(text, tooltip, className) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = `tool-button ${className}`;
  el.textContent = text;
  el.title = tooltip;
  return el;
}

// A button that shows only its icon: its name is a label no one sees but screen readers.
function iconButton(label, className) {
  const el = button("", label, `${className} icon-only`);
  el.setAttribute("aria-label", label);
  return el;
}
