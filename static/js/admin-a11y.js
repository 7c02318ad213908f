// Django admin's two-box selectors (SelectFilter2.js, Django 5.2) draw a magnifier icon
// as a <span> carrying an aria-label: a span has no role that may be named, so the name
// is never read and axe-core reports aria-prohibited-attr (serious). Give the icon the
// role of an image: its label is then its accessible name, as Django meant it to be.
// SelectFilter2 builds the boxes on window "load"; this runs just after it.
"use strict";
window.addEventListener("load", () => {
  setTimeout(() => {
    for (const icon of document.querySelectorAll("span.search-label-icon[aria-label]")) {
      icon.setAttribute("role", "img");
    }
  }, 0);
});
