"""Every text a person reads is translated (issue 20): a text left untranslated fails here.

Three checks, each able to fail on its own:

- the catalogues: `make messages` is run on a copy of the sources (so the tree is not
  changed) and every entry of every language's django.po and djangojs.po must have a
  translation that is not fuzzy. A new {% translate %}, gettext() or gettext("…") in a
  script that nobody translated fails, and names its text;
- the templates: text written in a template outside {% translate %} / {% blocktranslate %}
  is never extracted, so the first check cannot see it: the page text and the attributes
  people read (title, aria-label, placeholder, alt, a button's value) are read here;
- the scripts: the same for a sentence or a label written in static/js/*.js without
  gettext("…") around it.
"""

import html.parser
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils.translation import to_locale

from tests.servers import ROOT

# The Makefile's `messages` target, word for word (its MAKEMESSAGES_IGNORE and options).
MAKEMESSAGES_IGNORE = [
    *("--ignore", ".venv", "--ignore", "node_modules", "--ignore", "staticfiles"),
    *("--ignore", "tests", "--ignore", "bench", "--ignore", ".lockvenv"),
]
MAKEMESSAGES_OPTIONS = ["--no-obsolete", "--no-location"]
# What makemessages reads: the sources, and the catalogues it merges the new texts into.
COPIED = ["chat", "chatsite", "templates", "static/js", "manage.py", "locale"]
DOMAINS = ["django", "djangojs"]
LOCALES = [to_locale(code) for code, _name in settings.LANGUAGES if code != "en"]

# --- the catalogues -----------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str = ""
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False

    @property
    def translated(self) -> bool:
        return not self.fuzzy and bool(self.msgstr) and all(self.msgstr.values())


def _unquote(text: str) -> str:
    # A .po string is a C string in double quotes; these are the escapes xgettext writes.
    body = text.strip()[1:-1]
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(m[1], m[1]), body
    )


def po_entries(text: str) -> Iterator[Entry]:
    """The entries of a .po file: enough of the format for what makemessages writes
    (msgctxt, msgid, msgid_plural, msgstr, msgstr[n], strings continued on the next
    lines, the fuzzy flag). Obsolete entries (#~) are skipped; the header is not an
    entry."""
    for block in re.split(r"\n\s*\n", text):
        entry, last = Entry(), None
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and last is not None:
                kind, index = last
                if kind == "msgstr":
                    entry.msgstr[index] += _unquote(line)
                else:
                    setattr(entry, kind, getattr(entry, kind) + _unquote(line))
            elif match := re.match(r"(msgctxt|msgid_plural|msgid)\s+(\".*\")$", line):
                setattr(entry, match[1], _unquote(match[2]))
                last = (match[1], 0)
            elif match := re.match(r"msgstr(?:\[(\d+)\])?\s+(\".*\")$", line):
                index = int(match[1] or 0)
                entry.msgstr[index] = _unquote(match[2])
                last = ("msgstr", index)
        if entry.msgid:
            yield entry


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sources with `make messages` run on it: its locale/ holds every
    text of today's sources, with the translations the repository has for them."""
    copy = tmp_path_factory.mktemp("messages")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.mo")
            shutil.copytree(source, copy / name, ignore=ignore)
        elif source.exists():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    locales = [arg for locale in LOCALES for arg in ("--locale", locale)]
    for domain in DOMAINS:
        subprocess.run(
            [
                sys.executable,
                *("manage.py", "makemessages", "-d", domain),
                *MAKEMESSAGES_IGNORE,
                *MAKEMESSAGES_OPTIONS,
                *locales,
            ],
            cwd=copy,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return copy / "locale"


def test_the_po_reader_sees_what_is_left_to_translate():
    text = (
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n'
        'msgid "Done"\nmsgstr "Fertig"\n\n'
        '#, fuzzy\nmsgid "Send"\nmsgstr "Senden"\n\n'
        'msgid ""\n"Two "\n"lines"\nmsgstr ""\n\n'
        'msgid "%(n)s file"\nmsgid_plural "%(n)s files"\nmsgstr[0] "%(n)s Datei"\n'
        'msgstr[1] ""\n\n'
        '#~ msgid "Gone"\n#~ msgstr ""\n'
    )
    entries = {e.msgid: e for e in po_entries(text)}
    assert set(entries) == {"Done", "Send", "Two lines", "%(n)s file"}
    assert [m for m, e in entries.items() if e.translated] == ["Done"]


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_is_translated(extracted: Path, locale: str, domain: str):
    catalogue = extracted / locale / "LC_MESSAGES" / f"{domain}.po"
    assert catalogue.exists(), f"makemessages wrote no {catalogue.name} for {locale}"
    entries = list(po_entries(catalogue.read_text(encoding="utf-8")))
    assert entries, f"no text found for {domain}: is extraction broken?"
    left = sorted({e.msgid for e in entries if not e.translated})
    assert not left, (
        f"{len(left)} of {len(entries)} texts of locale/{locale}/LC_MESSAGES/{domain}.po "
        "are not translated (run `make messages` and translate them; fuzzy ones need a "
        "look and their fuzzy flag removed):\n" + "\n".join(f"  {m!r}" for m in left)
    )


# --- the templates ------------------------------------------------------------------

TEMPLATES = ROOT / "templates"
# Where a tag, a variable or a translated text was: a space, which leaves the HTML
# around it whole (`<li{% if pinned %} class="pinned"{% endif %}>`) and has no letter.
HOLE = " "
# Texts that are the same in every language. Keep it short: anything else goes through
# {% translate %}.
TEMPLATE_ALLOWED = {
    "chatsite",  # the site's name
    "csk",  # the prefix of every API key
}
# Attributes whose value people read (or hear).
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Elements whose text is not prose: scripts, styles, and code shown as code.
NOT_PROSE = {"script", "style", "code", "pre", "kbd", "samp"}
LETTER = re.compile(r"[^\W\d_]")


_ALLOWED_WORDS = re.compile("|".join(rf"\b{re.escape(word)}\b" for word in TEMPLATE_ALLOWED))


def _needs_translation(text: str) -> bool:
    return bool(LETTER.search(_ALLOWED_WORDS.sub("", text)))


def template_skeleton(source: str) -> str:
    """The template with every tag, variable and comment, and everything inside
    {% blocktranslate %} and {% comment %}, replaced by HOLE: what is left was written
    in the template as it is, in English. Lines are kept, for the report."""
    out, inside = [], None
    for token in Lexer(source).tokenize():
        words = token.contents.split()
        name = words[0] if token.token_type == TokenType.BLOCK and words else ""
        if inside is not None:
            if name == inside:
                inside = None
        elif name in ("blocktranslate", "blocktrans"):
            inside = "end" + name
        elif name == "comment":
            inside = "endcomment"
        elif name == "block" and len(words) > 1 and words[1].endswith("class"):
            # {% block body_class %}: class names for the stylesheet, not words.
            inside = "endblock"
        if token.token_type == TokenType.TEXT and inside is None:
            out.append(token.contents)
        else:
            out.append(HOLE + "\n" * token.contents.count("\n"))
    return "".join(out)


class _TemplateTexts(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in ("submit", "button")
            )
            if read and value and _needs_translation(value):
                self.found.append((self.getpos()[0], f'{tag} {name}="{value.strip()}"'))
        if tag in NOT_PROSE:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not self.open and _needs_translation(data):
            self.found.append((self.getpos()[0], " ".join(data.split())))


def untranslated_in_template(source: str) -> list[tuple[int, str]]:
    parser = _TemplateTexts()
    parser.feed(template_skeleton(source))
    parser.close()
    return parser.found


def test_the_template_lint_sees_text_outside_translate():
    source = (
        "{% load i18n %}<h1>{% translate 'Chats' %}</h1><p>Hello {{ name }}</p>"
        '<button title="Send it">{% blocktranslate %}Send {{ n }}{% endblocktranslate %}'
        "</button><a aria-label=\"{% translate 'Back' %}\">\u2039</a><span>chatsite</span>"
        "{% comment %}Not shown{% endcomment %}{# nor this #}<code>make run</code>"
        "{% block body_class %}pages auth{% endblock %}"
        '<li{% if pinned %} class="pinned"{% endif %}>{{ title }} · chatsite</li>'
        '<input type="submit" value="Save"><input type="hidden" value="x y">'
    )
    assert [text for _line, text in untranslated_in_template(source)] == [
        "Hello",
        'button title="Send it"',
        'input value="Save"',
    ]


def test_every_template_text_is_in_translate():
    found = {}
    for path in sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]):
        texts = untranslated_in_template(path.read_text(encoding="utf-8"))
        if texts:
            found[str(path.relative_to(ROOT))] = texts
    assert not found, f"{len(found)} templates have text outside {{% translate %}}:\n" + "\n".join(
        f"  {name}:{line}: {text}" for name, texts in found.items() for line, text in texts
    )


# --- the scripts --------------------------------------------------------------------

SCRIPTS = ROOT / "static" / "js"
# A literal that reads like English: a capitalised word ("Send", "Copied to clipboard"),
# or words ending in a full stop, colon or ellipsis ("copied.").
SENTENCE = re.compile(r"^[A-Z][a-z]+\b|^[a-z]+( [a-z]+)+[.:!?…]$")
# Literals that look like text and are not: header names, and the type the browser gives
# files dragged onto the page. Each is the same in every language. (A key's name,
# compared with event.key, is told apart where it is compared: _KEY_COMPARED.)
SCRIPT_ALLOWED = {
    *("Content-Type", "Accept", "Accept-Language", "Authorization", "Cache-Control"),
    "Files",  # DataTransfer.types
}
# `event.key === "Enter"`: the literal names a key ("Delete" too), it is not a label.
_KEY_COMPARED = re.compile(r"\.(?:key|code)\s*[!=]==?\s*$")
# A string, a template literal's text, a comment or a regular expression: what the
# scanner steps over. A regex is told from a division by what comes before the slash.
_TOKEN = re.compile(
    r"""
    (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<template>`(?:[^`\\]|\\.)*`)
  | (?P<regex>(?<=[=(,:!&|?{};\[])\s*/(?![*/])(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[a-z]*)
    """,
    re.VERBOSE | re.DOTALL,
)
# gettext("…") and ngettext("…", "…", n): the literals makemessages extracts.
_CALL = re.compile(r"""\bn?gettext\(\s*"(?:[^"\\]|\\.)*"(?:\s*,\s*"(?:[^"\\]|\\.)*")?""", re.DOTALL)


def script_literals(source: str) -> Iterator[tuple[int, str, bool]]:
    """Each string literal of a script, and each text part of its template literals:
    (line, text, whether it is left alone: gettext or ngettext extracts it, or it is a
    key's name)."""
    extracted = [m.span() for m in _CALL.finditer(source)]
    for match in _TOKEN.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        if match["string"]:
            inside = any(start <= match.start() < end for start, end in extracted)
            a_key = bool(_KEY_COMPARED.search(source[max(0, match.start() - 40) : match.start()]))
            yield line, match["string"][1:-1], inside or a_key
        elif match["template"]:
            # A template literal is never extracted: its text parts are reported.
            for part in re.split(r"\$\{[^}]*\}", match["template"][1:-1]):
                yield line, part.strip(), False


def untranslated_in_script(source: str) -> list[tuple[int, str]]:
    return [
        (line, text)
        for line, text, extracted in script_literals(source)
        if not extracted and text not in SCRIPT_ALLOWED and SENTENCE.search(text)
    ]


def test_the_script_lint_sees_text_outside_gettext():
    source = (
        'import { gettext, ngettext } from "./i18n.js";\n'
        'button.textContent = "Send"; // "Not this"\n'
        'notice(gettext("Copied."));\n'
        'label = ngettext("%(n)s file", "%(n)s files", n);\n'
        'if (event.key === "Delete") el.className = "message message-user";\n'
        "const re = /Stop it/g; status.textContent = `Stopped after ${n} seconds`;\n"
        "hint = 'nothing here yet.';\n"
    )
    assert untranslated_in_script(source) == [
        (2, "Send"),
        (6, "Stopped after"),
        (7, "nothing here yet."),
    ]


def test_every_script_text_is_in_gettext():
    found = {}
    for path in sorted(SCRIPTS.glob("*.js")):
        texts = untranslated_in_script(path.read_text(encoding="utf-8"))
        if texts:
            found[path.name] = texts
    assert not found, f"{len(found)} scripts have text outside gettext():\n" + "\n".join(
        f"  static/js/{name}:{line}: {text!r}"
        for name, texts in found.items()
        for line, text in texts
    )
