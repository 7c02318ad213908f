"""A PDF brought to the chat: its chip, its text sent upstream with its pages, a cited
answer whose citation opens the page it names, and all of it again after a reload."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, log_in
from tests.documents import files

pytestmark = pytest.mark.browser

USER = '.message[data-role="user"]'


def test_a_pdf_is_read_sent_with_its_pages_and_its_citation_opens_the_page(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    pdf = files.pdf(["The lease starts in May.", "The rent is 900 euros a month."])
    page.set_input_files(
        "#attach-input", files=[{"name": "lease.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    chip = page.locator("#attachment-tray .document-chip")
    expect(chip).to_contain_text("lease.pdf")
    expect(chip).to_contain_text("2 pages")

    upstream.plan(text="The rent is 900 euros [lease.pdf, p. 2].")
    page.fill("#composer-input", "How much is the rent?")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    question = upstream.log()[-1]["body"]["messages"][-1]["content"]
    assert '<document name="lease.pdf" page="2">' in question
    assert "The rent is 900 euros a month." in question
    assert question.endswith("How much is the rent?")
    expect(page.locator(f"{USER} .message-documents .document-chip")).to_contain_text("lease.pdf")

    page.reload()
    citation = page.locator(f"{ASSISTANT} .citation")
    expect(citation).to_have_text("[lease.pdf, p. 2]")
    citation.click()
    preview = page.locator("#document-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("h2")).to_have_text("lease.pdf")
    cited = preview.locator(".document-unit.cited")
    expect(cited.locator("h3")).to_have_text("Page 2")
    expect(cited).to_contain_text("The rent is 900 euros a month.")


def test_a_file_chatsite_cannot_read_is_refused_with_its_reason(page: Page, site: Site):
    log_in(page, site)
    page.set_input_files(
        "#attach-input",
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": files.pdf([""])}],
    )

    expect(page.locator("#attachment-error")).to_contain_text("scan.pdf")
    expect(page.locator("#attachment-error")).to_contain_text("no text")
    expect(page.locator("#attachment-tray .document-chip")).to_have_count(0)


def test_a_document_s_name_and_text_are_shown_as_text_never_run(page: Page, site: Site):
    log_in(page, site)
    name = "<img src=x onerror=window.pwned=1>.txt"
    text = b'<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'
    page.set_input_files(
        "#attach-input", files=[{"name": name, "mimeType": "text/plain", "buffer": text}]
    )
    chip = page.locator("#attachment-tray .document-chip")
    expect(chip.locator(".document-name")).to_have_text(name)

    chip.locator(".document-open").click()

    preview = page.locator("#document-preview")
    expect(preview.locator(".document-text")).to_have_text(text.decode())
    assert page.locator("#document-preview img, #document-preview script").count() == 0
    assert page.evaluate("() => window.pwned") is None


def test_a_document_in_the_library_is_brought_again_to_a_new_conversation_and_deleted(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    page.set_input_files(
        "#attach-input",
        files=[{"name": "agenda.txt", "mimeType": "text/plain", "buffer": b"Meeting at noon."}],
    )
    expect(page.locator("#attachment-tray .document-chip")).to_have_count(1)
    page.locator("#attachment-tray .attachment-remove").click()
    expect(page.locator("#attachment-tray .document-chip")).to_have_count(0)

    page.click("#library-button")
    library = page.locator("#document-library")
    mine = library.locator("li", has_text="agenda.txt")
    expect(mine).to_have_count(1)  # the site's earlier tests left documents of their own
    library.get_by_role("button", name="Add agenda.txt to the message").click()
    expect(page.locator("#attachment-tray .document-chip")).to_contain_text("agenda.txt")
    upstream.plan(tokens=1)
    page.fill("#composer-input", "When is the meeting?")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    assert "Meeting at noon." in upstream.log()[-1]["body"]["messages"][-1]["content"]

    page.click("#library-button")
    library.get_by_role("button", name="Delete agenda.txt").click()
    expect(mine).to_have_count(0)
    # Deleted on the server, not only from the list.
    library_json = page.request.get(f"{site.url}/documents/").json()
    names = [d["name"] for d in library_json["documents"]]
    assert "agenda.txt" not in names


def test_a_dropped_document_and_a_pasted_one_land_in_the_tray(page: Page, site: Site):
    log_in(page, site)
    page.evaluate(
        """() => {
          const file = (name, text, type) => new File([text], name, { type });
          const drop = new DataTransfer();
          drop.items.add(file("dropped.md", "# Dropped", "text/markdown"));
          const init = { bubbles: true, cancelable: true };
          document.querySelector("#composer").dispatchEvent(
            new DragEvent("drop", { ...init, dataTransfer: drop }));
          const paste = new DataTransfer();
          paste.items.add(file("pasted.csv", "a,b\\n1,2", "text/csv"));
          document.querySelector("#composer-input").dispatchEvent(
            new ClipboardEvent("paste", { ...init, clipboardData: paste }));
        }"""
    )

    chips = page.locator("#attachment-tray .document-chip")
    expect(chips).to_have_count(2)
    expect(chips.filter(has_text="dropped.md")).to_contain_text("1 page")
    expect(chips.filter(has_text="pasted.csv")).to_have_count(1)
