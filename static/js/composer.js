// The message box: Enter sends, Shift+Enter adds a line, Escape stops.
export class Composer {
  constructor(form, { onSend, onStop }) {
    this.form = form;
    this.input = form.querySelector("textarea");
    this.sendButton = form.querySelector("#send-button");
    this.stopButton = form.querySelector("#stop-button");
    this.streamingId = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(onSend);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit(onSend);
      } else if (event.key === "Escape" && this.streamingId !== null) {
        onStop(this.streamingId);
      }
    });
    this.stopButton.addEventListener("click", () => {
      if (this.streamingId !== null) onStop(this.streamingId);
    });
  }

  submit(onSend) {
    const text = this.input.value;
    if (!text.trim() || this.streamingId !== null) return;
    if (onSend(text) === false) return; // refused before sending: keep what was typed
    this.lastSent = text;
    this.input.value = "";
  }

  // The server refused the last send: put its text back unless something new was typed.
  restore() {
    if (this.lastSent && !this.input.value) this.input.value = this.lastSent;
    this.lastSent = null;
    this.input.focus();
  }

  setStreaming(messageId) {
    this.streamingId = messageId;
    const busy = messageId !== null;
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    if (!busy) this.input.focus();
  }
}
