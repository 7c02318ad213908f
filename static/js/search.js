// Searching one's own conversations, titles and message text, on the server: the results
// take the conversation list's place while there is a query.
import { getJson } from "./http.js";
import { gettext } from "./i18n.js";

export class ConversationSearch {
  constructor({ input, results, list }, { url }) {
    this.input = input;
    this.results = results;
    this.list = list;
    this.url = url;
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
    const reply = await getJson(this.url, { q: query });
    if (asked !== this.asked) return;
    this.show((reply.ok && reply.data.results) || []);
  }

  show(results) {
    const items = results.map(({ id, title, url, snippet, archived }) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = url;
      link.dataset.resultId = String(id);
      link.textContent = title;
      if (archived) {
        const mark = document.createElement("span");
        mark.className = "pin-mark";
        mark.textContent = gettext("Archived");
        link.append(mark);
      }
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
      empty.textContent = gettext("Nothing found.");
      items.push(empty);
    }
    this.results.replaceChildren(...items);
    this.results.hidden = false;
    this.list.hidden = true;
  }
}
