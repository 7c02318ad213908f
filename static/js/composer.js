// The message box: Enter sends, Shift+Enter adds a line, Escape (anywhere on the page)
// stops the answer being written. Focus goes back to the box after a send or a stop,
// but an answer that ends never pulls focus away from where the person is reading.
export class Composer {
  constructor(form, { onSend, onStop }) {
    this.form = form;
    this.input = form.querySelector("textarea");
    this.sendButton = form.querySelector("#send-button");
    this.stopButton = form.querySelector("#stop-button");
    this.streamingId = null;
    const stop = () => {
      if (this.streamingId === null) return;
      onStop(this.streamingId);
      this.input.focus();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(onSend);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit(onSend);
      }
    });
    document.addEventListener("keydown", (event) => {
      // Escape closes an open dialog first; a control that used Escape itself (closing a
      // menu, say) has prevented its default.
      if (event.key !== "Escape" || event.defaultPrevented || this.streamingId === null) return;
      if (document.querySelector("dialog[open]")) return;
      stop();
    });
    this.stopButton.addEventListener("click", stop);
  }

  submit(onSend) {
    const text = this.input.value;
    if (!text.trim() || this.streamingId !== null) return;
    if (onSend(text) === false) return; // refused before sending: keep what was typed
    this.lastSent = text;
    this.input.value = "";
    this.input.focus();
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
    // Hiding the focused button would drop focus on the page's body: keep it in the box.
    const focusWasHere = this.form.contains(document.activeElement);
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    if (focusWasHere) this.input.focus();
  }
}
