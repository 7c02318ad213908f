// What an answer did besides answering: its reasoning, in a collapsed "Thinking" panel
// that says how long it thought, and its tool calls, each a collapsible block.
import { format, formatNumber, gettext } from "./i18n.js";
import { MarkdownView } from "./markdown.js";

const seconds = (ms) => formatNumber(Math.max(1, Math.round(ms / 1000)));

export class ReasoningPanel {
  /** The panel of this answer: the one the server rendered, or a new one. */
  static of(article) {
    let details = article.querySelector(":scope > details.reasoning");
    if (!details) {
      details = document.createElement("details");
      details.className = "reasoning";
      details.hidden = true; // until there is reasoning to show
      const summary = document.createElement("summary");
      const content = document.createElement("div");
      content.className = "reasoning-content";
      details.append(summary, content);
      article.querySelector(".message-content").before(details);
    }
    details.reasoningPanel ??= new ReasoningPanel(details);
    return details.reasoningPanel;
  }

  constructor(details) {
    this.details = details;
    this.summary = details.querySelector("summary");
    this.view = new MarkdownView(details.querySelector(".reasoning-content"));
    this.startedAt = null; // when this page saw the reasoning begin, if it did
    this.ms = details.dataset.reasoningMs ? Number(details.dataset.reasoningMs) : null;
    this.thinking = false;
    this.timer = null;
    const saved = this.view.element.textContent;
    if (saved) this.view.set(saved);
    this.showSummary();
  }

  /** Reasoning text of an answer being written. The first piece this page sees on an
   * empty panel is the beginning (give or take one delta): the clock starts. */
  append(text) {
    if (!text) return;
    if (!this.thinking && !this.view.text) {
      this.thinking = true;
      this.details.hidden = false;
      this.startedAt = performance.now();
      this.timer = setInterval(() => this.showSummary(), 1000);
    }
    this.view.append(text);
  }

  render() {
    const drawn = this.view.render();
    this.showSummary();
    return drawn;
  }

  /** The text so far of an answer being written, after a reload or reconnect. */
  set(text) {
    this.view.set(text, { final: false });
    this.details.hidden = !text;
    this.thinking = Boolean(text);
    this.showSummary();
  }

  /** The answer itself has begun: the thinking is over. */
  answerStarted() {
    if (!this.thinking) return;
    this.thinking = false;
    if (this.startedAt !== null) this.ms = performance.now() - this.startedAt;
    this.stopTimer();
    this.view.closed = true;
    this.view.render({ budget: false });
    this.showSummary();
  }

  /** The saved reasoning and the server's measure of it. Returns false when some is
   * left to draw in the next frames. */
  finish(text, ms) {
    this.thinking = false;
    this.stopTimer();
    if (ms !== null && ms !== undefined) this.ms = ms;
    const drawn = text ? this.view.finish(text) : true;
    this.details.hidden = !this.view.text;
    this.showSummary();
    return drawn;
  }

  stopTimer() {
    clearInterval(this.timer);
    this.timer = null;
  }

  showSummary() {
    if (this.thinking) {
      this.summary.textContent =
        this.startedAt === null
          ? gettext("Thinking…")
          : format(gettext("Thinking… %(seconds)s s"), { seconds: seconds(performance.now() - this.startedAt) });
    } else {
      this.summary.textContent =
        this.ms === null
          ? gettext("Thought")
          : format(gettext("Thought for %(seconds)s s"), { seconds: seconds(this.ms) });
    }
  }
}

/** Arguments are JSON as the model wrote them: shown indented when they parse. */
function prettyArguments(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The answer's tool calls, after its content: the server's, or these from a done frame. */
export function showToolCalls(article, calls) {
  let list = article.querySelector(":scope > .tool-calls");
  if (calls) {
    list?.remove();
    if (!calls.length) return;
    list = document.createElement("div");
    list.className = "tool-calls";
    for (const call of calls) {
      const details = document.createElement("details");
      details.className = "tool-call";
      const summary = document.createElement("summary");
      summary.append(gettext("Tool call:"), " ");
      const name = document.createElement("code");
      name.className = "tool-call-name";
      name.textContent = call.function?.name || gettext("unnamed");
      summary.append(name);
      const args = document.createElement("pre");
      args.className = "tool-call-arguments";
      args.textContent = call.function?.arguments || "";
      details.append(summary, args);
      list.append(details);
    }
    article.querySelector(".message-content").after(list);
  }
  for (const args of list?.querySelectorAll(".tool-call-arguments") || []) {
    args.textContent = prettyArguments(args.textContent);
  }
}
