// The conversation's export links (Markdown and JSON downloads), shown once it exists.
export function showExportLinks({ tools, markdown, json }, urls) {
  markdown.href = urls.exportMarkdown;
  json.href = urls.exportJson;
  tools.hidden = false;
}
