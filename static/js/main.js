import { AttachmentTray, showThumbnails } from "./attachments.js";
import { Composer } from "./composer.js";
import { ConversationActions, ConversationSearch, addCopyButton } from "./conversation-actions.js";
import { MessageTools } from "./message-tools.js";
import { MessageList } from "./messages.js";
import { SettingsPanel } from "./settings.js";
import { addConversation, sidebarToggle } from "./sidebar.js";
import { ModelPicker } from "./models.js";
import { ChatSocket } from "./socket.js";
import { refreshUsage } from "./usage.js";

const config = JSON.parse(document.getElementById("chat-config").textContent);
let conversationId = config.conversationId;

const announcer = document.getElementById("announcer");
const messages = new MessageList(document.getElementById("messages"), {
  announce(text) {
    announcer.textContent = text;
  },
  // A delta's seq skipped some: a snapshot mends the answer at once.
  onGap: () => subscribe(),
});
sidebarToggle(document.getElementById("sidebar-toggle"), document.getElementById("sidebar"));
const tools = new MessageTools(document.getElementById("messages"), {
  messages,
  branches: config.branches,
  onRegenerate(messageId) {
    showNotice("");
    socket.send({ type: "regenerate", message_id: messageId });
  },
  onEdit(messageId, content) {
    showNotice("");
    socket.send({ type: "edit", message_id: messageId, content });
  },
  onSelect(messageId) {
    socket.send({ type: "select_branch", message_id: messageId });
  },
  extraTools: [addCopyButton],
  onShown(el, message) {
    showThumbnails(el, message.attachments);
  },
});
for (const [id, attachments] of Object.entries(config.attachments || {})) {
  showThumbnails(messages.element(id), attachments);
}
const tray = new AttachmentTray({
  form: document.getElementById("composer"),
  input: document.getElementById("composer-input"),
  fileInput: document.getElementById("attach-input"),
  button: document.getElementById("attach-button"),
  tray: document.getElementById("attachment-tray"),
  error: document.getElementById("attachment-error"),
  url: config.attachmentUrl,
  csrfToken: config.csrfToken,
  maxBytes: config.imageMaxBytes,
});
const conversationList = document.getElementById("conversation-list");
const actions = new ConversationActions({
  csrfToken: config.csrfToken,
  conversationId: config.conversationId,
  title: config.conversationTitle,
  list: conversationList,
});
new ConversationSearch(
  document.getElementById("conversation-search"),
  document.getElementById("search-results"),
  conversationList,
  config.searchUrl,
);
const settingsPanel = new SettingsPanel(
  document.getElementById("settings-dialog"),
  document.getElementById("settings-button"),
  { url: config.settingsUrl, csrfToken: config.csrfToken, initial: config.settings },
);
const notice = document.getElementById("notice");
const connection = document.getElementById("connection-status");
const signedOutNotice = document.getElementById("signed-out");
const signInLink = document.getElementById("sign-in-link");

const picker = new ModelPicker(
  document.getElementById("model-picker"),
  document.getElementById("model-refresh"),
  { url: config.modelsUrl, current: config.conversationModel },
);
picker.load();
const myUsage = document.getElementById("my-usage");
// Refused sends give the text back to the composer: nothing typed is lost.
const REFUSED = new Set([
  "busy",
  "limit_reached",
  "model_not_allowed",
  "too_long",
  "rate_limited",
  "unavailable",
]);

function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

const handlers = {
  conversation({ conversation }) {
    composer.saved(); // only the socket that sent it gets this frame
    conversationId = conversation.id;
    settingsPanel.conversationStarted(conversation.url);
    actions.started(conversation);
    history.pushState({}, "", conversation.url);
    addConversation(conversationList, conversation);
  },
  title({ conversation }) {
    actions.setTitle(conversation);
  },
  message({ message }) {
    if (message.role === "user") composer.saved(message.content);
    messages.add(message);
    showThumbnails(messages.element(message.id), message.attachments);
    if (message.role === "assistant" && message.status === "streaming") {
      composer.setStreaming(message.id);
    }
  },
  branch(frame) {
    if (frame.conversation_id !== conversationId) return;
    tools.showBranch(frame);
    const streaming = frame.messages.find((m) => m.role === "assistant" && m.status === "streaming");
    if (streaming) composer.setStreaming(streaming.id);
  },
  snapshot(frame) {
    messages.snapshot(frame);
    composer.setStreaming(frame.message_id);
  },
  retrying(frame) {
    messages.retrying(frame);
  },
  delta(frame) {
    messages.delta(frame);
  },
  done(frame) {
    messages.done(frame);
    if (composer.streamingId === frame.message_id) composer.setStreaming(null);
    refreshUsage(myUsage);
  },
  error(frame) {
    showNotice(frame.message);
    composer.unblock(); // whatever was refused, what was typed is still in the box
    if (REFUSED.has(frame.code)) {
      composer.restore();
      tray.restore();
    }
  },
};

const socket = new ChatSocket(config.wsPath, {
  onFrame(frame) {
    handlers[frame.type]?.(frame);
  },
  onState(state) {
    if (state !== "open") composer.unblock();
    // The session ended: the socket will not come back, so say so and offer to sign in,
    // returning here after.
    const signedOut = state === "unauthenticated";
    signedOutNotice.hidden = !signedOut;
    signInLink.search = new URLSearchParams({ next: location.pathname }).toString();
    connection.textContent = state === "open" || signedOut ? "" : "Reconnecting…";
  },
});

const composer = new Composer(document.getElementById("composer"), {
  onSend(content) {
    if (tray.busy) {
      showNotice("An image is still uploading: send again in a moment.");
      return false;
    }
    showNotice("");
    const frame = { type: "send", conversation_id: conversationId, content, ...picker.selected() };
    const attachmentIds = tray.ids();
    if (attachmentIds.length) frame.attachment_ids = attachmentIds;
    tray.clear();
    // Settings chosen before the first message apply to the new conversation.
    if (conversationId === null) frame.settings = settingsPanel.forNewConversation();
    socket.send(frame);
  },
  onStop(messageId) {
    socket.send({ type: "stop", message_id: messageId });
  },
});
composer.setStreaming(messages.streamingMessageIds().at(-1) ?? null);

// On load and after every reconnect: live frames from now on, a snapshot of any answer
// being written, and the final state of any that ended while this page was not listening.
function subscribe({ branch = false } = {}) {
  if (conversationId === null) return;
  socket.send({
    type: "subscribe",
    conversation_id: conversationId,
    streaming_ids: messages.streamingMessageIds(),
    branch,
  });
}
// After a reconnect the page asks for the selected branch too: messages it missed while
// the socket (or the server's Redis) was away are shown.
let connectedBefore = false;
socket.whenOpen(() => {
  subscribe({ branch: connectedBefore });
  connectedBefore = true;
});
