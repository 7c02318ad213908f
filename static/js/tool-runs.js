// The tools chatsite ran for an answer, each a collapsible block above its text: the call
// (the tool's name and the arguments, indented), Approve and Decline while a call waits
// for the user, then the result. A result is a tool's untrusted text: rendered as
// sanitised markdown, like model output (markdown.js).
import { format, formatNumber, gettext } from "./i18n.js";
import { MarkdownView } from "./markdown.js";

const STATUS_TEXT = {
  asked: gettext("waiting for your approval"),
  running: gettext("running…"),
  done: gettext("done"),
  failed: gettext("failed"),
  declined: gettext("declined"),
  refused: gettext("refused"),
  cancelled: gettext("cancelled"),
};

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Show these runs on the answer's element: new ones added, known ones brought up to
 * date. `decide(runId, approved)` sends a decision; buttons show only while the answer
 * is being written. */
export function showToolRuns(article, runs, decide) {
  if (!runs?.length) return;
  let list = article.querySelector(":scope > .tool-runs");
  if (!list) {
    list = document.createElement("div");
    list.className = "tool-runs";
    article.querySelector(".message-content").before(list);
  }
  for (const run of runs) {
    let block = list.querySelector(`.tool-run[data-run-id="${CSS.escape(run.id)}"]`);
    if (!block) {
      block = runBlock(run);
      list.append(block);
    }
    update(block, run, article.dataset.status === "streaming" ? decide : null);
  }
}

/** The answer ended: no call waits any more. */
export function endToolRuns(article) {
  for (const buttons of article.querySelectorAll(".tool-run-decision")) buttons.remove();
}

function runBlock(run) {
  const block = document.createElement("details");
  block.className = "tool-run";
  block.dataset.runId = run.id;
  const summary = document.createElement("summary");
  const name = document.createElement("code");
  name.className = "tool-run-name";
  name.textContent = run.label || run.name;
  const state = document.createElement("span");
  state.className = "tool-run-status";
  summary.append(gettext("Tool:"), " ", name, " ", state);
  const args = document.createElement("pre");
  args.className = "tool-run-arguments";
  args.textContent = pretty(run.arguments);
  const result = document.createElement("div");
  result.className = "tool-run-result";
  result.hidden = true;
  block.append(summary, args, result);
  return block;
}

function update(block, run, decide) {
  block.dataset.status = run.status;
  const status = STATUS_TEXT[run.status] || run.status;
  const timed = run.status === "done" && run.duration_ms != null;
  block.querySelector(".tool-run-status").textContent = timed
    ? format(gettext("(%(status)s in %(seconds)s s)"), {
        status,
        seconds: formatNumber(Math.round(run.duration_ms / 100) / 10),
      })
    : format(gettext("(%(status)s)"), { status });
  block.querySelector(".tool-run-decision")?.remove();
  if (run.status === "asked" && decide) {
    block.open = true; // the arguments in front of the person who decides
    block.append(decision(run, decide));
  }
  const result = block.querySelector(".tool-run-result");
  if (run.result && result.dataset.shown !== run.result) {
    result.dataset.shown = run.result;
    result.hidden = false;
    const label = document.createElement("p");
    label.className = "tool-run-result-label";
    label.textContent = run.truncated ? gettext("Result (cut to the site's limit):") : gettext("Result:");
    const body = document.createElement("div");
    body.className = "tool-run-result-body";
    result.replaceChildren(label, body);
    new MarkdownView(body).set(asMarkdown(run.result));
  }
}

/** A JSON result (many tools answer so) as an indented code block; other text as is. */
function asMarkdown(text) {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return text;
  try {
    return "```json\n" + JSON.stringify(JSON.parse(trimmed), null, 2) + "\n```";
  } catch {
    return text;
  }
}

/** Whether any call of the answer waits for the user. */
export function waitingForApproval(article) {
  return Boolean(article.querySelector('.tool-run[data-status="asked"]'));
}

function decision(run, decide) {
  const bar = document.createElement("div");
  bar.className = "tool-run-decision";
  const approve = document.createElement("button");
  approve.type = "button";
  approve.className = "tool-run-approve";
  approve.textContent = gettext("Approve");
  const decline = document.createElement("button");
  decline.type = "button";
  decline.className = "tool-run-decline secondary-button";
  decline.textContent = gettext("Decline");
  for (const [button, approved] of [
    [approve, true],
    [decline, false],
  ]) {
    button.addEventListener("click", () => {
      approve.disabled = decline.disabled = true; // the server's next frame says what happened
      decide(run.id, approved);
    });
  }
  bar.append(approve, decline);
  return bar;
}
