// The page's texts in the reader's language. Django's catalog (/jsi18n/, loaded by
// base.html before any module) defines window.gettext and friends; these wrappers keep
// the names `makemessages -d djangojs` looks for, and fall back to English without it.
const catalog = window;

export function gettext(text) {
  return catalog.gettext ? catalog.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (catalog.ngettext) return catalog.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// "%(name)s" placeholders filled from `values`, after translating: a translation may
// move them.
export function format(text, values) {
  return text.replace(/%\((\w+)\)s/g, (match, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : match,
  );
}

// Numbers and dates the way the page's language writes them.
export const LANGUAGE = document.documentElement.lang || "en";

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(LANGUAGE, options).format(value);
}

export function formatDate(value, options = { dateStyle: "medium", timeStyle: "short" }) {
  return new Intl.DateTimeFormat(LANGUAGE, options).format(new Date(value));
}
