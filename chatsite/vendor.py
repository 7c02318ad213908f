"""The browser libraries chatsite serves, straight from node_modules (installed by `npm ci`
from package-lock.json), as ordinary static files under `vendor/`.

Only the files named here are served: each package's self-contained ES module build (no
bare imports, so no bundler and no import map, which the CSP would refuse as inline
script) and what those files point at. collectstatic hashes and compresses them like
chatsite's own files, and rewrites the imports of chatsite's modules to the hashed names.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

# static path -> path inside node_modules
VENDOR_FILES: dict[str, str] = {
    "vendor/marked/marked.esm.js": "marked/lib/marked.esm.js",
    # marked.esm.js names its source map; collectstatic insists that it exists.
    "vendor/marked/marked.esm.js.map": "marked/lib/marked.esm.js.map",
    "vendor/dompurify/purify.es.mjs": "dompurify/dist/purify.es.mjs",
    "vendor/katex/katex.mjs": "katex/dist/katex.mjs",
    "vendor/highlight/highlight.min.js": "@highlightjs/cdn-assets/es/highlight.min.js",
    "vendor/highlight/github.min.css": "@highlightjs/cdn-assets/styles/github.min.css",
    "vendor/highlight/github-dark.min.css": "@highlightjs/cdn-assets/styles/github-dark.min.css",
}

# The icons the chat page draws (lucide-static, ISC): only these are served, each its own
# SVG, which chatsite's CSS uses as a mask so the icon takes the text's colour.
ICONS: tuple[str, ...] = (
    "archive",
    "archive-restore",
    "arrow-up",
    "chevron-left",
    "chevron-right",
    "copy",
    "download",
    "ellipsis",
    "folder",
    "library",
    "menu",
    "message-square",
    "panel-left",
    "paperclip",
    "pencil",
    "pin",
    "plus",
    "refresh-cw",
    "search",
    "settings",
    "share-2",
    "sparkles",
    "square",
    "trash-2",
)
VENDOR_FILES.update(
    {f"vendor/lucide/{name}.svg": f"lucide-static/icons/{name}.svg" for name in ICONS}
)


def node_modules() -> Path:
    return Path(getattr(settings, "NODE_MODULES_DIR", settings.BASE_DIR / "node_modules"))


class VendorFinder(BaseFinder):
    """A staticfiles finder for the files of VENDOR_FILES."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root = node_modules()
        self.storage = FileSystemStorage(location=str(self.root))

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        # Only a development server serves from here; a deployment serves what
        # collectstatic gathered (and collectstatic fails loudly on a missing file).
        if not settings.DEBUG:
            return []
        missing = [name for name in VENDOR_FILES.values() if not (self.root / name).is_file()]
        if not missing:
            return []
        return [
            Error(
                f"Browser libraries are missing from {self.root}: {', '.join(missing)}",
                hint="Run `npm ci` (the Makefile does it for you).",
                id="chatsite.E001",
            )
        ]

    # A missing file is [] whether or not all are asked for, as with Django's own finders;
    # django-stubs types it None when one is asked for.
    def find(  # type: ignore[override]
        self, path: str, find_all: bool = False, **kwargs: Any
    ) -> str | list[str]:
        source = VENDOR_FILES.get(path)
        found = str(self.root / source) if source and (self.root / source).is_file() else None
        if find_all:
            return [found] if found else []
        return found or []

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, "_PrefixedStorage"]]:
        for static_path, source in VENDOR_FILES.items():
            yield static_path, _PrefixedStorage(self.root, source)


class _PrefixedStorage(FileSystemStorage):
    """collectstatic opens each listed path through the storage it came with: this one
    opens the node_modules file that the static path stands for."""

    def __init__(self, root: Path, source: str) -> None:
        super().__init__(location=str(root))
        self.source = source

    def path(self, name: str) -> str:
        return super().path(self.source)

    def open(self, name: str, mode: str = "rb") -> Any:
        return super().open(self.source, mode)
