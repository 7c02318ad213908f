// The message list. Message text is rendered as sanitised markdown (markdown.js); streamed
// deltas are drawn at most once per animation frame, and only the answer they belong to,
// and only its unfinished last block, is rendered again.
import { format, formatNumber, gettext } from "./i18n.js";
import { MarkdownView } from "./markdown.js";
import { ReasoningPanel, showToolCalls } from "./reasoning.js";
import { endToolRuns, showToolRuns, waitingForApproval } from "./tool-runs.js";

const STATUS_TEXT = {
  streaming: gettext("Writing…"),
  stopped: gettext("Stopped."),
  error: gettext("Error"),
  interrupted: gettext("Interrupted: the server stopped while writing this answer."),
};
const ANNOUNCED_CHARS = 2000;
const CUT_TEXT = {
  length: gettext("Cut short: the answer reached its length limit."),
  content_filter: gettext("Cut short by the provider's content filter."),
};

export class MessageList {
  constructor(
    root,
    { emptyHint = null, announce = () => {}, onGap = () => {}, toolRuns = {}, decide = () => {} } = {},
  ) {
    this.root = root;
    this.decide = decide; // (message id, run id, approved): a tool call approved or declined
    this.emptyHint = emptyHint; // "Ask anything…" on a page with no messages yet
    this.announce = announce; // tells screen readers, politely, that an answer is done
    this.onGap = onGap; // asks for a snapshot: a delta's seq showed that some were missed
    this.seqs = new Map(); // answer id -> seq of the last delta (or snapshot) drawn
    this.mending = new Set(); // ids of answers waiting for the snapshot that mends a gap
    this.views = new Map(); // message id -> MarkdownView of its content
    this.dirty = new Set(); // ids of answers with text not drawn yet
    this.finishing = new Map(); // id -> what to do once an ended answer is all drawn
    this.scheduled = false;
    // Saved messages come as plain text from the server: rendered here like live ones.
    for (const el of root.querySelectorAll(".message")) {
      const final = el.dataset.status !== "streaming";
      this.view(el).set(el.querySelector(".message-content").textContent, { final });
      if (el.querySelector(":scope > details.reasoning")) ReasoningPanel.of(el);
      showToolCalls(el);
      this.showToolRuns(el, toolRuns[el.dataset.messageId]);
      this.renderStatus(el);
      el.setAttribute("aria-busy", String(el.dataset.status === "streaming"));
    }
  }

  view(el) {
    const id = Number(el.dataset.messageId);
    const content = el.querySelector(".message-content");
    // A message shown again (another branch, then back) has a new element: a new view.
    if (this.views.get(id)?.element !== content) this.views.set(id, new MarkdownView(content));
    return this.views.get(id);
  }

  element(id) {
    return this.root.querySelector(`.message[data-message-id="${Number(id)}"]`);
  }

  streamingMessageIds() {
    const selector = '.message[data-role="assistant"][data-status="streaming"]';
    return [...this.root.querySelectorAll(selector)].map((el) => Number(el.dataset.messageId));
  }

  add(message) {
    if (this.element(message.id)) return;
    this.emptyHint?.remove();
    this.emptyHint = null;
    const el = document.createElement("article");
    el.className = `message message-${message.role}`;
    el.dataset.messageId = String(message.id);
    el.dataset.role = message.role;
    el.dataset.status = message.status;
    el.setAttribute("aria-busy", String(message.status === "streaming"));
    const content = document.createElement("div");
    content.className = "message-content";
    el.append(content);
    this.root.append(el);
    if (message.role === "assistant" && message.status === "streaming") {
      this.seqs.set(message.id, 0);
    }
    this.view(el).set(message.content, { final: message.status !== "streaming" });
    this.renderStatus(el);
    this.scrollToEnd();
  }

  // The text so far of an answer being written; live deltas continue from it.
  snapshot(frame) {
    if (!this.element(frame.message_id)) {
      this.add({ id: frame.message_id, role: "assistant", status: "streaming", content: "" });
    }
    const el = this.element(frame.message_id);
    this.dirty.delete(frame.message_id);
    this.seqs.set(frame.message_id, frame.seq);
    this.mending.delete(frame.message_id);
    this.view(el).set(frame.content, { final: false });
    if (frame.reasoning) {
      const panel = ReasoningPanel.of(el);
      panel.set(frame.reasoning);
      if (frame.content) panel.answerStarted();
    }
    el.dataset.status = "streaming";
    el.setAttribute("aria-busy", "true");
    this.showToolRuns(el, frame.tools);
    this.renderStatus(el);
    this.scrollToEnd();
  }

  showToolRuns(el, runs) {
    const id = Number(el.dataset.messageId);
    showToolRuns(el, runs, (runId, approved) => this.decide(id, runId, approved));
    const waiting = el.dataset.status === "streaming" && waitingForApproval(el);
    if (waiting !== (el.dataset.waiting === "true")) {
      el.dataset.waiting = String(waiting);
      this.renderStatus(el);
    }
  }

  // A tool call of an answer being written changed: in order with its deltas.
  tool(frame) {
    const el = this.element(frame.message_id);
    if (!el || !this.inOrder(frame)) return;
    this.showToolRuns(el, [frame.run]);
    this.scrollToEnd();
  }

  retrying(frame) {
    const el = this.element(frame.message_id);
    if (!el) return;
    el.dataset.retry = format(
      gettext("The provider did not answer (%(reason)s). Trying again in %(delay)s s…"),
      { reason: frame.reason, delay: formatNumber(frame.delay) },
    );
    this.renderStatus(el);
  }

  // Deltas continue the text only in order: a second copy is dropped, and a gap (a seq
  // skipped) asks for a snapshot at once instead of waiting for the done frame to mend it.
  inOrder(frame) {
    const id = frame.message_id;
    if (this.mending.has(id)) return false; // the snapshot asked for covers it
    const last = this.seqs.get(id);
    if (last !== undefined && frame.seq <= last) return false;
    if (last !== undefined && frame.seq > last + 1) {
      this.mending.add(id);
      this.onGap(id);
      return false;
    }
    this.seqs.set(id, frame.seq);
    return true;
  }

  delta(frame) {
    const el = this.element(frame.message_id);
    if (!el || !this.inOrder(frame) || !(frame.content || frame.reasoning)) return;
    if (el.dataset.retry) {
      delete el.dataset.retry;
      this.renderStatus(el);
    }
    if (frame.reasoning) ReasoningPanel.of(el).append(frame.reasoning);
    if (frame.content) {
      el.querySelector(":scope > details.reasoning")?.reasoningPanel?.answerStarted();
      this.view(el).append(frame.content);
    }
    this.dirty.add(frame.message_id);
    this.schedule();
  }

  flush() {
    this.scheduled = false;
    const follow = this.atEnd();
    const unfinished = new Set(); // drawn in part: the rest in the next frame
    for (const id of this.dirty) {
      const el = this.element(id);
      if (!el) continue;
      const panel = el.querySelector(":scope > details.reasoning")?.reasoningPanel;
      const drawn = [this.view(el).render(), panel ? panel.render() : true];
      if (drawn.includes(false)) unfinished.add(id);
      else this.drawnToTheEnd(el);
    }
    this.dirty = unfinished;
    if (unfinished.size) this.schedule();
    if (follow) this.scrollToEnd();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  done(frame) {
    this.seqs.delete(frame.message_id);
    this.mending.delete(frame.message_id);
    const el = this.element(frame.message_id);
    if (!el) return;
    this.finishing.set(frame.message_id, {
      started: performance.now(),
      follow: this.atEnd(),
      announce: el.dataset.status === "streaming",
    });
    // The final frame carries the whole text: whatever was missed is mended here. What
    // is not drawn yet is drawn in the next frames, a slice per frame, like deltas.
    const drawn = [this.view(el).finish(frame.content)];
    if (frame.reasoning || el.querySelector(":scope > details.reasoning")) {
      drawn.push(ReasoningPanel.of(el).finish(frame.reasoning, frame.reasoning_ms));
    }
    showToolCalls(el, frame.tool_calls || []);
    el.dataset.status = frame.status;
    this.showToolRuns(el, frame.tool_runs);
    endToolRuns(el);
    el.dataset.finishReason = frame.finish_reason || "";
    el.dataset.error = frame.error || "";
    el.setAttribute("aria-busy", "false");
    delete el.dataset.retry;
    this.renderStatus(el);
    if (drawn.includes(false)) {
      this.dirty.add(frame.message_id);
      this.schedule();
    } else {
      this.dirty.delete(frame.message_id);
      this.drawnToTheEnd(el);
    }
  }

  // An answer that ended is on the page in full: follow it, and tell screen readers.
  drawnToTheEnd(el) {
    const id = Number(el.dataset.messageId);
    const finishing = this.finishing.get(id);
    if (!finishing) return;
    this.finishing.delete(id);
    performance.measure("chatsite:final-render", { start: finishing.started });
    if (finishing.follow) this.scrollToEnd();
    if (finishing.announce) this.announce(this.announcement(el));
  }

  // What a screen reader hears once an answer is done: the answer, once, not per token
  // (a very long one only begins; the rest is in the conversation), without the labels
  // and buttons of its code blocks.
  announcement(el) {
    const note = el.querySelector(".message-status")?.textContent;
    const content = el.querySelector(".message-content").cloneNode(true);
    for (const header of content.querySelectorAll(".code-header")) header.remove();
    let text = content.textContent.replace(/\s+/g, " ").trim();
    if (text.length > ANNOUNCED_CHARS) text = `${text.slice(0, ANNOUNCED_CHARS)}…`;
    return note
      ? format(gettext("Answer (%(note)s): %(text)s"), { note, text })
      : format(gettext("Answer: %(text)s"), { text });
  }

  renderStatus(el) {
    el.querySelector(".message-status")?.remove();
    const { status, finishReason, error, retry, waiting } = el.dataset;
    const text = retry
      ? retry
      : status === "streaming" && waiting === "true"
        ? gettext("Waiting for your approval of a tool call.")
      : status === "error"
        ? format(gettext("Error: %(error)s"), { error: error || gettext("the answer failed.") })
        : status === "incomplete"
          ? format(gettext("Incomplete: %(error)s"), {
              error: error || gettext("the provider ended the answer early."),
            })
          : STATUS_TEXT[status] || CUT_TEXT[finishReason] || "";
    if (!text) return;
    const note = document.createElement("p");
    note.className = `message-status status-${status}`;
    note.textContent = text;
    el.append(note);
  }

  // Follow a growing answer only while the reader is at the end: someone who scrolled
  // up to read is left where they are.
  atEnd() {
    return this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 48;
  }

  scrollToEnd() {
    this.root.scrollTop = this.root.scrollHeight;
  }
}
