// The message list. Text is set with textContent only, and streamed deltas are applied
// once per animation frame, never re-rendering other messages.
const STATUS_TEXT = {
  streaming: "Writing…",
  stopped: "Stopped.",
  error: "Error",
  interrupted: "Interrupted: the server stopped while writing this answer.",
  incomplete: "Incomplete: the provider ended the answer early.",
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

  streamingMessageId() {
    const el = this.root.querySelector('.message[data-role="assistant"][data-status="streaming"]');
    return el ? Number(el.dataset.messageId) : null;
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

  delta(frame) {
    if (!frame.content || !this.element(frame.message_id)) return;
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
    this.renderStatus(el);
    this.scrollToEnd();
  }

  renderStatus(el) {
    el.querySelector(".message-status")?.remove();
    const { status, finishReason, error } = el.dataset;
    const text =
      status === "error"
        ? `Error: ${error || "the answer failed."}`
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
