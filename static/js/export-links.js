// The conversation's export links (Markdown and JSON downloads), and the controls that
// need a conversation (Share, the More menu), shown once it exists.
export function showExportLinks({ tools, more, markdown, json }, urls) {
  markdown.href = urls.exportMarkdown;
  json.href = urls.exportJson;
  tools.hidden = false;
  if (more) more.hidden = false;
}
