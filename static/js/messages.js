// The message list. Text is set with textContent only, and streamed deltas are applied
// once per animation frame, never re-rendering other messages.
const STATUS_TEXT = {
  streaming: "Writing…",
  stopped: "Stopped.",
  error: "Error",
  interrupted: "Interrupted: the server stopped while writing this answer.",
};
const CUT_TEXT = {
  length: "Cut short: the answer reached its length limit.",
  content_filter: "Cut short by the provider's content filter.",
};

export class MessageList {
  constructor(root) {
    this.root = root;
    this.pending = new Map(); // message id -> text waiting for the next frame
    this.scheduled = false;
    for (const el of root.querySelectorAll(".message")) this.renderStatus(el);
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
    document.getElementById("empty-hint")?.remove();
    const el = document.createElement("article");
    el.className = `message message-${message.role}`;
    el.dataset.messageId = String(message.id);
    el.dataset.role = message.role;
    el.dataset.status = message.status;
    const content = document.createElement("div");
    content.className = "message-content";
    content.textContent = message.content;
    el.append(content);
    this.root.append(el);
    this.renderStatus(el);
    this.scrollToEnd();
  }

  // The text so far of an answer being written; live deltas continue from it.
  snapshot(frame) {
    if (!this.element(frame.message_id)) {
      this.add({ id: frame.message_id, role: "assistant", status: "streaming", content: "" });
    }
    const el = this.element(frame.message_id);
    this.pending.delete(frame.message_id);
    el.querySelector(".message-content").textContent = frame.content;
    el.dataset.status = "streaming";
    this.renderStatus(el);
    this.scrollToEnd();
  }

  retrying(frame) {
    const el = this.element(frame.message_id);
    if (!el) return;
    el.dataset.retry = `The provider did not answer (${frame.reason}). Trying again in ${frame.delay} s…`;
    this.renderStatus(el);
  }

  delta(frame) {
    const el = this.element(frame.message_id);
    if (!frame.content || !el) return;
    if (el.dataset.retry) {
      delete el.dataset.retry;
      this.renderStatus(el);
    }
    this.pending.set(frame.message_id, (this.pending.get(frame.message_id) || "") + frame.content);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  flush() {
    this.scheduled = false;
    for (const [id, text] of this.pending) {
      const content = this.element(id)?.querySelector(".message-content");
      if (content) content.append(document.createTextNode(text));
    }
    this.pending.clear();
    this.scrollToEnd();
  }

  done(frame) {
    const el = this.element(frame.message_id);
    if (!el) return;
    this.pending.delete(frame.message_id);
    // The final frame carries the whole text: whatever was missed is mended here.
    el.querySelector(".message-content").textContent = frame.content;
    el.dataset.status = frame.status;
    el.dataset.finishReason = frame.finish_reason || "";
    el.dataset.error = frame.error || "";
    delete el.dataset.retry;
    this.renderStatus(el);
    this.scrollToEnd();
  }

  renderStatus(el) {
    el.querySelector(".message-status")?.remove();
    const { status, finishReason, error, retry } = el.dataset;
    const text = retry
      ? retry
      : status === "error"
        ? `Error: ${error || "the answer failed."}`
        : status === "incomplete"
          ? `Incomplete: ${error || "the provider ended the answer early."}`
          : STATUS_TEXT[status] || CUT_TEXT[finishReason] || "";
    if (!text) return;
    const note = document.createElement("p");
    note.className = `message-status status-${status}`;
    note.textContent = text;
    el.append(note);
  }

  scrollToEnd() {
    this.root.scrollTop = this.root.scrollHeight;
  }
}
