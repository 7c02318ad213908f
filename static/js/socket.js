// One websocket per page, reconnecting with backoff; frames queue while it is down.
export class ChatSocket {
  // closeSignedOut: the close code of a socket whose session ended (from the page's config).
  constructor(path, { onFrame, onState, closeSignedOut }) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.onFrame = onFrame;
    this.onState = onState;
    this.closeSignedOut = closeSignedOut;
    this.queue = [];
    this.onOpenHooks = [];
    this.retryDelay = 500;
    this.connect();
  }

  connect() {
    this.ws = new WebSocket(this.url);
    this.parts = []; // slices of a long frame's JSON text, until its last part
    this.ws.addEventListener("open", () => {
      this.retryDelay = 500;
      this.onState("open");
      for (const hook of this.onOpenHooks) hook();
      while (this.queue.length) this.ws.send(this.queue.shift());
    });
    this.ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      // A frame longer than a websocket message may be comes in parts, in order.
      if (frame.type === "part") {
        this.parts.push(frame.data);
        if (!frame.last) return;
        const text = this.parts.join("");
        this.parts = [];
        try {
          frame = JSON.parse(text);
        } catch {
          return;
        }
      }
      this.onFrame(frame);
    });
    this.ws.addEventListener("close", (event) => {
      if (event.code === this.closeSignedOut) {
        this.onState("unauthenticated");
        return;
      }
      this.onState("closed");
      // Spread out: after Redis returns, every page of a process is closed at once.
      setTimeout(() => this.connect(), this.retryDelay * (0.5 + Math.random()));
      this.retryDelay = Math.min(this.retryDelay * 2, 10000);
    });
  }

  // Run now if connected and again after every reconnect (re-subscribing, say).
  whenOpen(hook) {
    this.onOpenHooks.push(hook);
    if (this.ws.readyState === WebSocket.OPEN) hook();
  }

  send(frame) {
    const text = JSON.stringify(frame);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.queue.push(text);
  }
}
