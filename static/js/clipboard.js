// Copying to the clipboard from a button, which says for a moment whether it worked.
import { gettext } from "./i18n.js";

const FEEDBACK_MS = 1500;

export async function copyWithFeedback(button, text) {
  // Its own label, kept from the first click: a second click meanwhile reads "Copied".
  button.dataset.label ??= button.textContent;
  const label = button.dataset.label;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = gettext("Copied");
  } catch {
    button.textContent = gettext("Copy failed");
  }
  setTimeout(() => (button.textContent = label), FEEDBACK_MS);
}
