// The URLs of a conversation, from the templates in the page's config (urls.conversation),
// where "{id}" stands for the conversation's id.
export function conversationUrls(templates, id) {
  const fill = (template) => template.replace("{id}", encodeURIComponent(String(id)));
  return Object.fromEntries(Object.entries(templates).map(([name, template]) => [name, fill(template)]));
}
