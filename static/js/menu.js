// A button that opens a menu of more controls (the disclosure pattern: the controls stay
// ordinary buttons, links and a select, in Tab order). Escape or a click elsewhere closes
// it; choosing a button or link in it closes it too.
export class MoreMenu {
  constructor(button, menu) {
    this.button = button;
    this.menu = menu;
    button.addEventListener("click", () => this.setOpen(!this.open));
    const container = button.parentElement;
    container.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.open) return;
      event.preventDefault(); // Escape closed the menu: it does not also stop an answer
      this.setOpen(false);
      button.focus();
    });
    document.addEventListener("click", (event) => {
      if (this.open && !container.contains(event.target)) this.setOpen(false);
    });
    menu.addEventListener("click", (event) => {
      if (!(event.target instanceof Element) || !event.target.closest("button, a")) return;
      // After the chosen control's own handlers: focus goes back to the menu's button,
      // unless the control put it somewhere else (a dialog it opened).
      const focusWasHere = menu.contains(document.activeElement);
      this.setOpen(false);
      if (focusWasHere) button.focus();
    });
  }

  // A dialog opened from the menu gives focus back to the menu's button when it closes:
  // the control that opened it is hidden with the menu by then.
  returnFocusFrom(dialogs) {
    for (const dialog of dialogs) {
      dialog.addEventListener("close", () => {
        // After the browser has put focus back where it was (or lost it).
        setTimeout(() => {
          const focused = document.activeElement;
          if (!focused || focused === document.body || this.menu.contains(focused)) this.button.focus();
        });
      });
    }
  }

  get open() {
    return this.button.getAttribute("aria-expanded") === "true";
  }

  setOpen(open) {
    this.button.setAttribute("aria-expanded", String(open));
    this.menu.hidden = !open;
    if (open) this.menu.querySelector("button, a, select")?.focus();
  }
}
