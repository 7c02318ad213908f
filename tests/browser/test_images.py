import base64
import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, log_in

pytestmark = pytest.mark.browser

USER = '.message[data-role="user"]'
LOADED = "els => els.length > 0 && els.every(img => img.complete && img.naturalWidth > 0)"


def _wait_loaded(page: Page, selector: str) -> None:
    """Every image there has loaded: the owner-only view served it and the CSP let it in."""
    page.wait_for_function(f"() => ({LOADED})([...document.querySelectorAll({selector!r})])")


def png(color: tuple[int, int, int], size: tuple[int, int] = (12, 9)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _images_sent(upstream) -> list[str]:
    content = upstream.log()[-1]["body"]["messages"][-1]["content"]
    return [part["image_url"]["url"] for part in content if part["type"] == "image_url"]


def _put_files_in(page: Page, event: str, target: str, files: dict[str, bytes]) -> None:
    """Paste or drop files as a person would, with a DataTransfer holding them."""
    page.evaluate(
        """([event, target, files]) => {
          const transfer = new DataTransfer();
          for (const [name, b64] of Object.entries(files)) {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
          }
          const init = { bubbles: true, cancelable: true };
          const e = event === "paste"
            ? new ClipboardEvent("paste", { ...init, clipboardData: transfer })
            : new DragEvent(event, { ...init, dataTransfer: transfer });
          document.querySelector(target).dispatchEvent(e);
        }""",
        [event, target, {name: base64.b64encode(data).decode() for name, data in files.items()}],
    )


def test_an_attached_image_is_previewed_sent_upstream_and_shown_after_reload(
    page: Page, site: Site, upstream
):
    red = png((220, 20, 20))
    log_in(page, site)
    page.set_input_files(
        "#attach-input", files=[{"name": "red.png", "mimeType": "image/png", "buffer": red}]
    )
    expect(page.locator("#attachment-tray .attachment-chip")).to_have_count(1)
    page.wait_for_function(
        f"() => ({LOADED})([...document.querySelectorAll('#attachment-tray img')])"
    )

    upstream.plan(tokens=2)
    page.fill("#composer-input", "What colour is this?")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator("#attachment-tray")).to_be_hidden()
    assert _images_sent(upstream) == [data_url(red)]
    thumbnails = page.locator(f"{USER} .message-images img")
    expect(thumbnails).to_have_count(1)
    page.wait_for_function(
        f"() => ({LOADED})([...document.querySelectorAll('.message-images img')])"
    )

    page.reload()
    expect(thumbnails).to_have_count(1)
    page.wait_for_function(
        f"() => ({LOADED})([...document.querySelectorAll('.message-images img')])"
    )


def test_pasted_and_dropped_images_go_with_the_next_message(page: Page, site: Site, upstream):
    green, blue = png((20, 200, 20)), png((20, 20, 220), size=(5, 5))
    log_in(page, site)
    _put_files_in(page, "paste", "#composer-input", {"pasted.png": green})
    expect(page.locator("#attachment-tray .attachment-chip")).to_have_count(1)
    _put_files_in(page, "drop", "#composer", {"dropped.png": blue})
    expect(page.locator("#attachment-tray .attachment-chip")).to_have_count(2)

    upstream.plan(tokens=1)
    page.fill("#composer-input", "Two images")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    assert sorted(_images_sent(upstream)) == sorted([data_url(green), data_url(blue)])
    expect(page.locator(f"{USER} .message-images img")).to_have_count(2)


def test_a_refused_file_says_why_and_keeps_what_was_typed(page: Page, site: Site, upstream):
    log_in(page, site)
    page.fill("#composer-input", "Please keep this text")
    page.set_input_files(
        "#attach-input",
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image at all"}],
    )
    expect(page.locator("#attachment-error")).to_have_text(
        "notes.png: That file is not an image chatsite accepts (gif, jpeg, png, webp)."
    )
    page.set_input_files(
        "#attach-input",
        files=[{"name": "big.png", "mimeType": "image/png", "buffer": b"\0" * (6 * 1024 * 1024)}],
    )
    expect(page.locator("#attachment-error")).to_have_text(
        "big.png: the image is 6.0 MB; the limit is 5.0 MB."
    )
    expect(page.locator("#composer-input")).to_have_value("Please keep this text")
    expect(page.locator("#attachment-tray .attachment-chip")).to_have_count(0)
    assert upstream.log() == []
