// The message box: Enter sends, Shift+Enter adds a line, Escape (anywhere on the page)
// stops the answer being written. What was sent stays in the box until the server saved it. Focus goes back to the box after a send or a stop,
// but an answer that ends never pulls focus away from where the person is reading.
export class Composer {
  constructor({ form, input, sendButton, stopButton, dialogs = [] }, { onSend, onStop }) {
    this.form = form;
    this.input = input;
    this.sendButton = sendButton;
    this.stopButton = stopButton;
    this.streamingId = null;
    this.sent = null; // the text of the last send, until the server saved or refused it
    this.awaiting = false;
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
      // Escape closes an open dialog (one of `dialogs`) first; a control that used Escape itself (closing a
      // menu, say) has prevented its default.
      if (event.key !== "Escape" || event.defaultPrevented || this.streamingId === null) return;
      if (dialogs.some((dialog) => dialog.open)) return;
      stop();
    });
    this.stopButton.addEventListener("click", stop);
  }

  // The text stays in the box until the server says it saved it (saved()): a send the
  // server could not take (its database down, say) loses nothing that was typed.
  submit(onSend) {
    const text = this.input.value;
    if (!text.trim() || this.streamingId !== null || this.awaiting) return;
    if (onSend(text) === false) return; // refused before sending: keep what was typed
    this.sent = text;
    this.awaiting = true; // Enter again sends nothing until the server answers
    this.input.focus();
  }

  // The server saved a message with this text (the user's `message` frame), or the
  // conversation the last send started: empty the box, unless something else was typed.
  saved(content = this.sent) {
    if (this.sent == null || content !== this.sent) return;
    if (this.input.value === this.sent) this.input.value = "";
    this.sent = null;
    this.awaiting = false;
  }

  // The server refused the last send (an error frame), or the socket closed before it
  // answered: the text is still in the box (put back if it was emptied) to send again.
  restore() {
    this.awaiting = false;
    if (this.sent && !this.input.value) this.input.value = this.sent;
    this.input.focus();
  }

  // The socket closed: a send it carried may never be answered; another may be made.
  unblock() {
    this.awaiting = false;
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
