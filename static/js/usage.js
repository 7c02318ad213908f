// The user's own usage this month, refreshed after each answer. The server writes the line
// (the same words as on the page it rendered); this only puts it in place.
import { getJson } from "./http.js";

export async function refreshUsage(element, url) {
  const reply = await getJson(url);
  // On a failure the figure stays as it was; the next answer tries again.
  if (reply.ok && typeof reply.data.line === "string") element.textContent = reply.data.line;
}
