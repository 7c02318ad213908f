// Markdown to safe DOM: marked parses, KaTeX writes math as MathML, highlight.js colours
// code, and DOMPurify sanitises the HTML that comes out, last, before anything reaches
// the page. Raw HTML in the text is shown as text, never parsed.
//
// MarkdownView renders a message that grows: blocks that are finished (a later block
// has begun after them) are rendered once and kept; only the last, unfinished block is
// parsed and rendered again, so a long answer costs time in proportion to new text.
import DOMPurify from "../vendor/dompurify/purify.es.mjs";
import hljs from "../vendor/highlight/highlight.min.js";
import katex from "../vendor/katex/katex.mjs";
import { Lexer, Marked, Parser } from "../vendor/marked/marked.esm.js";
import { copyWithFeedback } from "./clipboard.js";
import { format, gettext } from "./i18n.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

// Only absolute http(s) URLs may be opened from a message.
function webUrl(href) {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

function mathHtml(tex, displayMode) {
  // MathML only: the browser lays it out, with no inline styles (the CSP forbids them)
  // and no fonts to fetch. trust: false refuses \href, \url, \htmlClass and the like.
  return katex.renderToString(tex, {
    displayMode,
    output: "mathml",
    throwOnError: false,
    trust: false,
    strict: "ignore",
    maxExpand: 1000,
    maxSize: 50,
  });
}

const BLOCK_MATH = [/^ {0,3}\$\$([\s\S]+?)\$\$[ \t]*(?:\n+|$)/, /^ {0,3}\\\[([\s\S]+?)\\\][ \t]*(?:\n+|$)/];
const INLINE_MATH = [
  [/^\$\$((?:\\[\s\S]|[^\\$])+?)\$\$/, true],
  [/^\\\[([\s\S]+?)\\\]/, true],
  [/^\\\(([\s\S]+?)\\\)/, false],
  // $x$ but not "$5 and $10": no space inside either dollar, no digit after the last.
  [/^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?![\d$])/, false],
];

const mathExtensions = [
  {
    name: "blockMath",
    level: "block",
    tokenizer(src) {
      for (const pattern of BLOCK_MATH) {
        const match = pattern.exec(src);
        if (match) return { type: "blockMath", raw: match[0], text: match[1].trim() };
      }
      return undefined;
    },
    renderer: (token) => `<div class="math-block">${mathHtml(token.text, true)}</div>\n`,
  },
  {
    name: "inlineMath",
    level: "inline",
    start(src) {
      const index = src.search(/\$|\\[([]/);
      return index < 0 ? undefined : index;
    },
    tokenizer(src) {
      for (const [pattern, display] of INLINE_MATH) {
        const match = pattern.exec(src);
        if (match) return { type: "inlineMath", raw: match[0], text: match[1].trim(), display };
      }
      return undefined;
    },
    renderer: (token) =>
      token.display
        ? `<span class="math-display">${mathHtml(token.text, true)}</span>`
        : mathHtml(token.text, false),
  },
];

const renderer = {
  // Raw HTML is text that happens to contain angle brackets: show it as written.
  html({ text, block }) {
    return block ? `<p class="raw-html">${escapeHtml(text)}</p>\n` : escapeHtml(text);
  },
  code({ text, lang }) {
    const language = (lang || "").match(/^[\w+#.-]+/)?.[0] || "";
    const known = language && hljs.getLanguage(language) ? language : "";
    const body = known
      ? hljs.highlight(text, { language: known, ignoreIllegals: true }).value
      : escapeHtml(text);
    const label = language ? ` data-language="${escapeHtml(language)}"` : "";
    const className = known ? `hljs language-${known}` : "hljs";
    return `<pre><code class="${escapeHtml(className)}"${label}>${body}</code></pre>\n`;
  },
  // A remote image would be fetched by the reader's browser, telling its host who read
  // the answer and when: it becomes a link the person may choose to open.
  image({ href, text }) {
    const label = format(gettext("Image: %(description)s"), { description: text || gettext("no description") });
    const url = webUrl(href);
    if (!url) return `<span class="image-placeholder">${escapeHtml(label)}</span>`;
    return `<a class="image-link" href="${escapeHtml(url.href)}">${escapeHtml(label)} (${escapeHtml(url.host)})</a>`;
  },
};

const marked = new Marked({ gfm: true, breaks: true, renderer, extensions: mathExtensions });

// A purifier of our own, so the hooks below apply to message text only.
const purifier = DOMPurify(window);
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});
const SANITIZE = {
  USE_PROFILES: { html: true, mathMl: true },
  // Links may go to the web or to a mail program; javascript:, data:, relative URLs and
  // every other scheme lose their href.
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "img", "video", "audio"],
  FORBID_ATTR: ["style", "id", "name", "srcset", "action", "formaction"],
  // KaTeX's annotation holds the TeX source: dropped whole, not left behind as text.
  ADD_FORBID_CONTENTS: ["annotation", "annotation-xml"],
  RETURN_DOM_FRAGMENT: true,
};

/** The copy buttons of the code blocks rendered inside `root`: one listener for them all. */
export function copyCodeOnClick(root) {
  root.addEventListener("click", async (event) => {
    const button = event.target instanceof Element ? event.target.closest(".copy-code") : null;
    const code = button?.closest(".code-block")?.querySelector("code");
    if (!code) return;
    await copyWithFeedback(button, code.textContent);
  });
}

function decorateCodeBlocks(fragment) {
  for (const pre of fragment.querySelectorAll("pre")) {
    const block = document.createElement("div");
    block.className = "code-block";
    const header = document.createElement("div");
    header.className = "code-header";
    const language = document.createElement("span");
    language.className = "code-language";
    language.textContent = pre.querySelector("code")?.dataset.language || "";
    const copy = document.createElement("button");
    copy.type = "button";
    copy.className = "copy-code";
    copy.textContent = gettext("Copy code");
    header.append(language, copy);
    pre.replaceWith(block);
    block.append(header, pre);
  }
}

// A citation of a document the answer was given, as the model is asked to write it:
// "[report.pdf, p. 3]", "[deck.pptx, slide 2]", "[budget.xlsx, Costs]".
const CITATION = /\[([^\[\]\n]+?\.[A-Za-z0-9]{2,5}),\s*([^\[\]\n]{1,60})\]/g;

// Citations become buttons (made with the DOM, their text as text) that open the passage;
// not inside code, where brackets are code.
function decorateCitations(fragment) {
  const walker = document.createTreeWalker(fragment, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement?.closest("code, pre, a, button") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const found = [];
  while (walker.nextNode()) {
    if (walker.currentNode.nodeValue.includes("[")) found.push(walker.currentNode);
  }
  for (const node of found) {
    const text = node.nodeValue;
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(CITATION)) {
      parts.push(document.createTextNode(text.slice(last, match.index)));
      const button = document.createElement("button");
      button.type = "button";
      button.className = "citation";
      button.dataset.documentName = match[1].trim();
      button.dataset.where = match[2].trim();
      button.textContent = match[0];
      parts.push(button);
      last = match.index + match[0].length;
    }
    if (!parts.length) continue;
    parts.push(document.createTextNode(text.slice(last)));
    node.replaceWith(...parts);
  }
}

// Tokens to a sanitised fragment: parse first, sanitise the result, decorate last.
function renderTokens(tokens) {
  const fragment = purifier.sanitize(Parser.parse(tokens, marked.defaults), SANITIZE);
  decorateCodeBlocks(fragment);
  decorateCitations(fragment);
  return fragment;
}

/** Render markdown text once, as a sanitised DocumentFragment. */
export function renderMarkdown(text) {
  return renderTokens(Lexer.lex(normalize(text), marked.defaults));
}

const normalize = (text) => text.replace(/\r\n?/g, "\n");
// Finished blocks are drawn in batches of about this much text, for at most about this
// long per frame, so that a delta bringing thousands of words does not freeze the page.
const BATCH_CHARS = 2000;
const FRAME_BUDGET_MS = 8;

/** The markdown a rendered message was made from (for Copy and Edit), or its text. */
export function markdownSource(contentElement) {
  return contentElement.markdownView?.text ?? contentElement.textContent;
}

/** Half-written markdown with its open inline marks closed: a trailing run of marks
 * with nothing after it yet is dropped, then an odd "**", "*", "~~" or "`" is closed at
 * the end. Code fences, code spans and list bullets are not counted. */
export function closeOpenMarks(text) {
  if ((text.match(/^ {0,3}(```|~~~)/gm) || []).length % 2) return text; // inside a fence
  let open = text.replace(/[*_~`]+$/, "");
  const counted = open
    .replace(/`[^`\n]*`/g, "")
    .replace(/^\s*[*+-]\s/gm, "")
    .replace(/\\[*_~`]/g, "");
  // An odd mark opens only when a word follows it ("2 * 3" is no emphasis).
  const opens = (within, mark) =>
    (within.split(mark).length - 1) % 2 === 1 && /\S/.test(within[within.lastIndexOf(mark) + mark.length] ?? "");
  let closing = "";
  if (opens(counted, "`")) return `${open}\``;
  if (opens(counted, "**")) closing = "**";
  if (opens(counted.replace(/\*\*/g, "  "), "*")) closing = `*${closing}`;
  if (opens(counted, "~~")) closing = `~~${closing}`;
  // A closing mark after a space is not one: put it against the last word.
  if (closing) open = open.replace(/\s+$/, "");
  return open + closing;
}

export class MarkdownView {
  constructor(element) {
    this.element = element;
    element.markdownView = this;
    this.text = "";
    this.frozenEnd = 0; // the text before this offset is rendered for good
    this.links = Object.create(null); // reference definitions in the frozen text
    this.liveNodes = []; // the nodes of the unfinished last block
    this.closed = false; // no more text will come: the last block is finished too
  }

  /** Replace everything with this text. `final`: no more will come, so its last block is
   * finished too; otherwise later text may still change the last block. */
  set(text, { final = true } = {}) {
    this.text = normalize(text);
    this.frozenEnd = 0;
    this.links = Object.create(null);
    this.liveNodes = [];
    this.closed = final;
    this.element.replaceChildren();
    this.render({ budget: false });
  }

  /** More text; nothing is drawn until render(). */
  append(text) {
    this.text += normalize(text);
  }

  /** The answer is over: `text` is what was saved. Only what is not drawn yet is
   * rendered, unless the saved text differs or a link reference may point backwards.
   * Returns false when some is left for the next frames, as render() does. */
  finish(text) {
    const final = normalize(text);
    if (final !== this.text || Object.keys(this.links).length || /^ {0,3}\[[^\]\n]+\]:/m.test(final)) {
      this.set(final);
      return true;
    }
    this.closed = true;
    return this.render();
  }

  /** Draw what arrived since the last call: the unfinished tail only. With a budget,
   * finished blocks are drawn for at most about FRAME_BUDGET_MS; returns false when some
   * are left for the next frame (a delta that brought a lot of text at once). */
  render({ budget = true } = {}) {
    const final = this.closed;
    const started = performance.now();
    const tail = this.text.slice(this.frozenEnd);
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, this.links);
    const tokens = lexer.lex(tail);
    // A block is finished once another block that is not blank space has begun after it.
    let last = tokens.length;
    if (!final) last = Math.max(0, tokens.findLastIndex((token) => token.type !== "space"));
    // Freeze blocks only while their raw text lines up exactly with the source: the
    // lexer sometimes joins pieces, and then the offsets would drift.
    const ends = [];
    let offset = 0;
    while (ends.length < last && tail.startsWith(tokens[ends.length].raw, offset)) {
      offset += tokens[ends.length].raw.length;
      ends.push(offset);
    }
    for (const node of this.liveNodes) node.remove();
    this.liveNodes = [];
    let done = 0;
    while (done < ends.length) {
      let end = done;
      for (let chars = 0; end < ends.length && chars < BATCH_CHARS; end += 1) {
        chars += tokens[end].raw.length;
      }
      this.freeze(tokens.slice(done, end));
      done = end;
      if (budget && done < ends.length && performance.now() - started > FRAME_BUDGET_MS) break;
    }
    if (done > 0) this.frozenEnd += ends[done - 1];
    if (done < ends.length) return false;
    if (done < tokens.length) {
      // The unfinished block, its open marks closed for now: "**very imp" shows as bold
      // text, not as two stray asterisks, until the rest comes.
      let live = tokens.slice(done);
      if (!final) {
        const start = done ? ends[done - 1] : 0;
        const liveLexer = new Lexer(marked.defaults);
        Object.assign(liveLexer.tokens.links, this.links);
        live = liveLexer.lex(closeOpenMarks(tail.slice(start)));
      }
      const fragment = renderTokens(live);
      this.liveNodes = [...fragment.childNodes];
      this.element.append(fragment);
    }
    return true;
  }

  freeze(tokens) {
    for (const token of tokens) {
      if (token.type === "def" && !(token.tag in this.links)) {
        this.links[token.tag] = { href: token.href, title: token.title };
      }
    }
    this.element.append(renderTokens(tokens));
  }
}
