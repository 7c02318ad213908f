// The conversation the page shows: its id, its title, and its URLs (filled in from the
// templates in the page's config). Its title is kept current wherever a new one comes
// from: the model writing one, or a rename.
import { setConversationTitle } from "./sidebar.js";
import { conversationUrls } from "./urls.js";

export class CurrentConversation {
  constructor({ list, heading, urlTemplates, onStarted = () => {} }) {
    this.list = list; // the sidebar's conversation list
    this.heading = heading; // the page's h1, which names the conversation
    this.urlTemplates = urlTemplates;
    this.onStarted = onStarted; // (conversation) once it exists
    this.id = null;
    this.title = "";
    this.urls = null;
  }

  // A conversation exists now (on load, or after its first send).
  start({ id, title }) {
    this.id = id;
    this.title = title || "";
    this.urls = conversationUrls(this.urlTemplates, id);
    if (this.title && this.heading) this.heading.textContent = this.title;
    this.onStarted(this);
  }

  // A new title, from the model or a rename, for this conversation or another.
  setTitle({ id, title }) {
    setConversationTitle(this.list, { id, title });
    if (id === this.id) {
      this.title = title;
      if (this.heading) this.heading.textContent = title;
      document.title = `${title} · chatsite`;
    }
  }
}
