// Blocks of an answer that scroll sideways (code, tables, display maths) take keyboard
// focus, so someone without a mouse can scroll them with the arrow keys (axe's
// scrollable-region-focusable). Set as they appear, for saved and streamed answers alike.
const SCROLLERS = ".code-block pre, .message-content table, .math-block, .math-display";

export function focusableScrollers(root) {
  const mark = (node) => {
    for (const el of node.querySelectorAll(SCROLLERS)) {
      if (!el.hasAttribute("tabindex")) el.tabIndex = 0;
    }
  };
  mark(root);
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node instanceof Element) mark(node.parentElement || node);
      }
    }
  }).observe(root, { childList: true, subtree: true });
}
