// The chat page: finds its elements once, reads its config (every URL the scripts use
// comes from there), and wires the modules together.
import { AttachmentTray, showThumbnails } from "./attachments.js";
import { Composer } from "./composer.js";
import { CurrentConversation } from "./conversation.js";
import { DeleteDialog, RenameDialog } from "./conversation-dialogs.js";
import { DocumentLibrary, DocumentPreview, showDocuments } from "./documents.js";
import { addCopyButton } from "./copy-button.js";
import { showExportLinks } from "./export-links.js";
import { copyCodeOnClick } from "./markdown.js";
import { MessageTools } from "./message-tools.js";
import { MessageList } from "./messages.js";
import { ModelPicker } from "./models.js";
import { focusableScrollers } from "./scroll-focus.js";
import { ConversationSearch } from "./search.js";
import { SettingsPanel } from "./settings.js";
import { gettext } from "./i18n.js";
import { MoreMenu } from "./menu.js";
import { addConversation, groupByDate, sidebarToggle } from "./sidebar.js";
import { PinAndArchive, archivedSection, projectDrops, projectMove } from "./organise.js";
import { ShareDialog } from "./sharing.js";
import { Presets } from "./presets.js";
import { ChatSocket } from "./socket.js";
import { refreshUsage } from "./usage.js";

const byId = (id) => document.getElementById(id);
const config = JSON.parse(byId("chat-config").textContent);
const { urls } = config;

const el = {
  announcer: byId("announcer"),
  messages: byId("messages"),
  emptyHint: byId("empty-hint"),
  sidebar: byId("sidebar"),
  sidebarToggle: byId("sidebar-toggle"),
  conversationList: byId("conversation-list"),
  search: byId("conversation-search"),
  searchResults: byId("search-results"),
  usage: byId("my-usage"),
  conversationTools: byId("conversation-tools"),
  conversationTitle: byId("conversation-title"),
  more: byId("more"),
  moreButton: byId("more-button"),
  moreMenu: byId("more-menu"),
  pinButton: byId("pin-button"),
  shareButton: byId("share-button"),
  shareDialog: byId("share-dialog"),
  shareForm: byId("share-form"),
  shareImages: byId("share-images"),
  sharePublic: document.getElementById("share-public"), // only where the site allows it
  shareError: byId("share-error"),
  shareMade: byId("share-made"),
  shareLink: byId("share-link"),
  shareCopy: byId("share-copy"),
  shareClose: byId("share-close"),
  archiveButton: byId("archive-button"),
  archivedNote: byId("archived-note"),
  archivedSection: byId("archived-section"),
  archivedList: byId("archived-list"),
  exportMarkdown: byId("export-md"),
  exportJson: byId("export-json"),
  renameButton: byId("rename-button"),
  renameDialog: byId("rename-dialog"),
  renameForm: byId("rename-form"),
  renameInput: byId("rename-input"),
  renameError: byId("rename-error"),
  renameCancel: byId("rename-cancel"),
  deleteButton: byId("delete-button"),
  deleteDialog: byId("delete-dialog"),
  deleteName: byId("delete-name"),
  deleteError: byId("delete-error"),
  deleteConfirm: byId("delete-confirm"),
  deleteCancel: byId("delete-cancel"),
  settingsButton: byId("settings-button"),
  settingsDialog: byId("settings-dialog"),
  settingsForm: byId("settings-form"),
  settingsErrors: byId("settings-errors"),
  settingsCancel: byId("settings-cancel"),
  modelPicker: byId("model-picker"),
  modelRefresh: byId("model-refresh"),
  composer: byId("composer"),
  composerInput: byId("composer-input"),
  sendButton: byId("send-button"),
  stopButton: byId("stop-button"),
  attachInput: byId("attach-input"),
  attachButton: byId("attach-button"),
  attachmentTray: byId("attachment-tray"),
  attachmentError: byId("attachment-error"),
  documentPreview: byId("document-preview"),
  documentPreviewTitle: byId("document-preview-title"),
  documentPreviewBody: byId("document-preview-body"),
  documentPreviewClose: byId("document-preview-close"),
  notice: byId("notice"),
  connection: byId("connection-status"),
  signedOut: byId("signed-out"),
  signInLink: byId("sign-in-link"),
};

const preview = new DocumentPreview({
  dialog: el.documentPreview,
  title: el.documentPreviewTitle,
  body: el.documentPreviewBody,
  close: el.documentPreviewClose,
});
preview.openCitations(el.messages);
const messages = new MessageList(el.messages, {
  emptyHint: el.emptyHint,
  announce(text) {
    el.announcer.textContent = text;
  },
  // A delta's seq skipped some: a snapshot mends the answer at once.
  onGap: () => subscribe(),
  toolRuns: config.toolRuns,
  decide(messageId, runId, approved) {
    socket.send({ type: "approve", message_id: messageId, run_id: runId, approved });
  },
});
copyCodeOnClick(el.messages);
focusableScrollers(el.messages);
sidebarToggle(el.sidebarToggle, el.sidebar);
groupByDate(el.conversationList);
new MoreMenu(el.moreButton, el.moreMenu).returnFocusFrom([el.renameDialog, el.deleteDialog]);
// The welcome's suggestions start a question in the box, for the person to finish.
el.emptyHint?.addEventListener("click", (event) => {
  const suggestion = event.target instanceof Element ? event.target.closest(".suggestion") : null;
  if (!suggestion) return;
  el.composerInput.value = suggestion.dataset.prompt;
  el.composerInput.focus();
  el.composerInput.setSelectionRange(el.composerInput.value.length, el.composerInput.value.length);
});
const tools = new MessageTools(el.messages, {
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
  onShown(article, message) {
    showThumbnails(article, message.attachments);
    showDocuments(article, message.documents, preview);
  },
});
for (const [id, attachments] of Object.entries(config.attachments || {})) {
  showThumbnails(messages.element(id), attachments);
}
for (const [id, documents] of Object.entries(config.documents || {})) {
  showDocuments(messages.element(id), documents, preview);
}
const tray = new AttachmentTray({
  form: el.composer,
  input: el.composerInput,
  fileInput: el.attachInput,
  button: el.attachButton,
  tray: el.attachmentTray,
  error: el.attachmentError,
  url: urls.attachmentUpload,
  csrfToken: config.csrfToken,
  maxBytes: config.imageMaxBytes,
  tooLarge: config.imageTooLarge,
  imageTypes: config.imageTypes,
  documents: { url: urls.documentUpload, maxBytes: config.documentMaxBytes, preview },
});
new DocumentLibrary({
  dialog: byId("document-library"),
  list: byId("document-library-list"),
  empty: byId("document-library-empty"),
  button: byId("library-button"),
  close: byId("document-library-close"),
  url: urls.documents,
  csrfToken: config.csrfToken,
  preview,
  onAdd: (document) => tray.addDocument(document),
});
// Until a conversation exists its settings are only checked; then saved to it.
const settingsPanel = new SettingsPanel(
  {
    dialog: el.settingsDialog,
    form: el.settingsForm,
    errors: el.settingsErrors,
    cancel: el.settingsCancel,
    opener: el.settingsButton,
  },
  { url: urls.settingsCheck, csrfToken: config.csrfToken, initial: config.settings, tools: config.tools },
);
const conversation = new CurrentConversation({
  list: el.conversationList,
  heading: el.conversationTitle,
  urlTemplates: urls.conversation,
  onStarted({ urls: own }) {
    showExportLinks(
      { tools: el.conversationTools, more: el.more, markdown: el.exportMarkdown, json: el.exportJson },
      own,
    );
    settingsPanel.conversationStarted(own.settings);
  },
});
if (config.conversationId !== null) {
  conversation.start({ id: config.conversationId, title: config.conversationTitle });
}
new RenameDialog(
  {
    opener: el.renameButton,
    dialog: el.renameDialog,
    form: el.renameForm,
    input: el.renameInput,
    error: el.renameError,
    cancel: el.renameCancel,
  },
  { conversation, csrfToken: config.csrfToken },
);
new DeleteDialog(
  {
    opener: el.deleteButton,
    dialog: el.deleteDialog,
    name: el.deleteName,
    error: el.deleteError,
    confirm: el.deleteConfirm,
    cancel: el.deleteCancel,
  },
  { conversation, csrfToken: config.csrfToken },
);
new PinAndArchive(
  { pin: el.pinButton, archive: el.archiveButton, note: el.archivedNote, list: el.conversationList },
  { conversation, csrfToken: config.csrfToken },
);
new ShareDialog(
  {
    opener: el.shareButton,
    dialog: el.shareDialog,
    form: el.shareForm,
    images: el.shareImages,
    everyone: el.sharePublic,
    error: el.shareError,
    made: el.shareMade,
    link: el.shareLink,
    copy: el.shareCopy,
    close: el.shareClose,
  },
  { conversation, csrfToken: config.csrfToken },
);
archivedSection(el.archivedSection, el.archivedList, { url: urls.archived });
new ConversationSearch(
  { input: el.search, results: el.searchResults, list: el.conversationList },
  { url: urls.search },
);

const picker = new ModelPicker(el.modelPicker, el.modelRefresh, {
  url: urls.models,
  current: config.conversationModel,
});
if (config.project?.model.model) picker.choose(config.project.model);
picker.load();
projectMove(byId("project-move"), { conversation, csrfToken: config.csrfToken });
projectDrops(el.conversationList, byId("project-list"), {
  urlTemplates: urls.conversation,
  csrfToken: config.csrfToken,
  menu: byId("project-move"),
  current: conversation,
});
new Presets(
  {
    choice: byId("preset-choice"),
    remove: byId("preset-delete"),
    name: byId("preset-name"),
    save: byId("preset-save"),
    status: byId("preset-status"),
  },
  { panel: settingsPanel, picker, presets: config.presets, urls, csrfToken: config.csrfToken },
);
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
  el.notice.textContent = text;
  el.notice.hidden = !text;
}

const handlers = {
  conversation({ conversation: started }) {
    composer.saved(); // only the socket that sent it gets this frame
    conversation.start(started);
    history.pushState({}, "", started.url);
    addConversation(el.conversationList, started);
  },
  title({ conversation: titled }) {
    conversation.setTitle(titled);
  },
  message({ message }) {
    if (message.role === "user") composer.saved(message.content);
    messages.add(message);
    showThumbnails(messages.element(message.id), message.attachments);
    showDocuments(messages.element(message.id), message.documents, preview);
    if (message.role === "assistant" && message.status === "streaming") {
      composer.setStreaming(message.id);
    }
  },
  branch(frame) {
    if (frame.conversation_id !== conversation.id) return;
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
  tool(frame) {
    messages.tool(frame);
  },
  done(frame) {
    messages.done(frame);
    if (composer.streamingId === frame.message_id) composer.setStreaming(null);
    refreshUsage(el.usage, urls.usage);
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

const socket = new ChatSocket(urls.socket, {
  closeSignedOut: config.closeSignedOut,
  onFrame(frame) {
    handlers[frame.type]?.(frame);
  },
  onState(state) {
    if (state !== "open") composer.unblock();
    // The session ended: the socket will not come back, so say so and offer to sign in,
    // returning here after.
    const signedOut = state === "unauthenticated";
    el.signedOut.hidden = !signedOut;
    el.signInLink.search = new URLSearchParams({ next: location.pathname }).toString();
    el.connection.textContent = state === "open" || signedOut ? "" : gettext("Reconnecting…");
  },
});

const composer = new Composer(
  {
    form: el.composer,
    input: el.composerInput,
    sendButton: el.sendButton,
    stopButton: el.stopButton,
    dialogs: [el.settingsDialog, el.renameDialog, el.deleteDialog, el.documentPreview, byId("document-library")],
  },
  {
  onSend(content) {
    if (tray.busy) {
      showNotice(gettext("A file is still uploading: send again in a moment."));
      return false;
    }
    showNotice("");
    const frame = { type: "send", conversation_id: conversation.id, content, ...picker.selected() };
    const attachmentIds = tray.ids();
    if (attachmentIds.length) frame.attachment_ids = attachmentIds;
    const documentIds = tray.documentIds();
    if (documentIds.length) frame.document_ids = documentIds;
    tray.clear();
    // Settings chosen before the first message apply to the new conversation.
    if (conversation.id === null) frame.settings = settingsPanel.forNewConversation();
    if (conversation.id === null && config.project) frame.project_id = config.project.id;
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
  if (conversation.id === null) return;
  socket.send({
    type: "subscribe",
    conversation_id: conversation.id,
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
