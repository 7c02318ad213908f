// The site's menu (a <details> in the top bar, folded on narrow screens) closes like a
// menu: with Escape, which then goes no further (on the chat page Escape also stops an
// answer), and with a click anywhere else.
const menu = document.querySelector("details.site-menu");

if (menu) {
  const button = menu.querySelector("summary");
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    event.preventDefault();
    event.stopPropagation();
    menu.open = false;
    button.focus();
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
}
