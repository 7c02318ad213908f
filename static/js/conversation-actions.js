// What a person does to a whole conversation: rename, delete (confirmed in a <dialog>),
// export, and keep its title current when the model writes one. Also the sidebar search
// and the Copy button under each message.
import { postJson } from "./http.js";
import { markdownSource } from "./markdown.js";

export class ConversationActions {
  constructor({ csrfToken, conversationId, title, list }) {
    this.csrfToken = csrfToken;
    this.list = list;
    this.tools = document.getElementById("conversation-tools");
    this.renameDialog = document.getElementById("rename-dialog");
    this.deleteDialog = document.getElementById("delete-dialog");
    this.id = null;
    if (conversationId !== null) this.started({ id: conversationId, url: `/c/${conversationId}/`, title });

    document.getElementById("rename-button").addEventListener("click", () => this.openRename());
    document.getElementById("rename-cancel").addEventListener("click", () => this.renameDialog.close());
    document.getElementById("rename-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.rename();
    });
    document.getElementById("delete-button").addEventListener("click", () => this.openDelete());
    document.getElementById("delete-cancel").addEventListener("click", () => this.deleteDialog.close());
    document.getElementById("delete-confirm").addEventListener("click", () => this.delete());
  }

  // A conversation exists now (on load, or after its first send).
  started({ id, url, title }) {
    this.id = id;
    this.url = url;
    this.title = title || "";
    document.getElementById("export-md").href = `${url}export.md`;
    document.getElementById("export-json").href = `${url}export.json`;
    this.tools.hidden = false;
  }

  // A new title, from the model or a rename, wherever it came from.
  setTitle({ id, title }) {
    const link = this.list.querySelector(`a[data-conversation-id="${Number(id)}"]`);
    if (link) link.textContent = title;
    if (id === this.id) {
      this.title = title;
      document.title = `${title} · chatsite`;
    }
  }

  openRename() {
    const input = document.getElementById("rename-input");
    input.value = this.title;
    showError("rename-error", "");
    this.renameDialog.showModal();
    input.select();
  }

  async rename() {
    const title = document.getElementById("rename-input").value;
    const reply = await this.post(`${this.url}rename/`, { title });
    if (!reply.ok) {
      showError("rename-error", reply.error);
      return;
    }
    this.setTitle({ id: this.id, title: reply.title });
    this.renameDialog.close();
  }

  openDelete() {
    document.getElementById("delete-name").textContent = this.title;
    showError("delete-error", "");
    this.deleteDialog.showModal();
  }

  async delete() {
    const reply = await this.post(`${this.url}delete/`, {});
    if (!reply.ok) {
      showError("delete-error", reply.error);
      return;
    }
    location.assign(reply.url);
  }

  async post(url, body) {
    try {
      const reply = await postJson(url, body, this.csrfToken);
      if (reply.ok) return reply.data;
      return { ok: false, error: `The server refused (${reply.status}). Reload and try again.` };
    } catch {
      return { ok: false, error: "The server did not answer. Try again." };
    }
  }
}

function showError(id, text) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.hidden = !text;
}

// Searching one's own conversations, titles and message text, on the server.
export class ConversationSearch {
  constructor(input, results, list, searchUrl) {
    this.input = input;
    this.results = results;
    this.list = list;
    this.searchUrl = searchUrl;
    this.asked = 0; // only the newest question's answer is shown
    this.timer = null;
    input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), 200);
    });
  }

  async search() {
    const query = this.input.value.trim();
    const asked = ++this.asked;
    if (!query) {
      this.results.hidden = true;
      this.results.replaceChildren();
      this.list.hidden = false;
      return;
    }
    let data;
    try {
      const response = await fetch(`${this.searchUrl}?q=${encodeURIComponent(query)}`, {
        credentials: "same-origin",
      });
      data = await response.json();
    } catch {
      data = { results: [] };
    }
    if (asked !== this.asked) return;
    this.show(data.results || []);
  }

  show(results) {
    const items = results.map(({ id, title, url, snippet }) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = url;
      link.dataset.resultId = String(id);
      link.textContent = title;
      if (snippet) {
        const note = document.createElement("span");
        note.className = "search-snippet";
        note.textContent = snippet;
        link.append(note);
      }
      item.append(link);
      return item;
    });
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "search-empty";
      empty.textContent = "Nothing found.";
      items.push(empty);
    }
    this.results.replaceChildren(...items);
    this.results.hidden = false;
    this.list.hidden = true;
  }
}

// A Copy button for MessageTools: the message's text to the clipboard.
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
