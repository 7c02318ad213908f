import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, log_in

pytestmark = pytest.mark.browser


def _start(page: Page, text: str, upstream) -> int:
    upstream.plan(tokens=2)
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def _open_more(page: Page) -> None:
    """The conversation's less used controls are in its More menu."""
    page.get_by_role("button", name="More").click()


def test_a_person_renames_a_conversation_then_deletes_it_after_confirming(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    conversation_id = _start(page, "Plan a picnic", upstream)
    link = page.locator(f'#conversation-list a[data-conversation-id="{conversation_id}"]')

    _open_more(page)
    page.click("#rename-button")
    page.fill("#rename-input", "   ")
    page.click("#rename-save")
    expect(page.locator("#rename-error")).to_have_text("The name is empty.")
    page.fill("#rename-input", "Picnic plans")
    page.click("#rename-save")
    expect(page.locator("#rename-dialog")).to_be_hidden()
    expect(link).to_have_text("Picnic plans")
    expect(page).to_have_title("Picnic plans · chatsite")
    page.reload()
    expect(link).to_have_text("Picnic plans")

    # Cancelling the confirmation deletes nothing.
    _open_more(page)
    page.click("#delete-button")
    expect(page.locator("#delete-dialog")).to_be_visible()
    expect(page.locator("#delete-name")).to_have_text("Picnic plans")
    page.click("#delete-cancel")
    expect(page.locator("#delete-dialog")).to_be_hidden()
    page.reload()
    expect(link).to_have_count(1)

    _open_more(page)
    page.click("#delete-button")
    page.click("#delete-confirm")
    expect(page).to_have_url(f"{site.url}/")
    expect(link).to_have_count(0)
    assert page.request.get(f"{site.url}/c/{conversation_id}/").status == 404


def test_the_sidebar_search_finds_words_inside_messages(page: Page, site: Site, upstream):
    log_in(page, site)
    _start(page, "Apples are crunchy", upstream)
    page.goto(f"{site.url}/")
    banana_id = _start(page, "Bananas are yellow and soft", upstream)

    page.fill("#conversation-search", "yellow AND")
    results = page.locator("#search-results a")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("href", f"/c/{banana_id}/")
    expect(results.first.locator(".search-snippet")).to_have_text("Bananas are yellow and soft")
    expect(page.locator("#conversation-list")).to_be_hidden()

    page.fill("#conversation-search", "no such words anywhere")
    expect(page.locator("#search-results .search-empty")).to_have_text("Nothing found.")
    page.fill("#conversation-search", "")
    expect(page.locator("#conversation-list")).to_be_visible()
    expect(page.locator("#search-results")).to_be_hidden()


def test_a_conversation_downloads_as_markdown_and_as_json(
    page: Page, site: Site, upstream, tmp_path
):
    log_in(page, site)
    conversation_id = _start(page, "Export me", upstream)

    with page.expect_download() as markdown:
        _open_more(page)
        page.click("#export-md")
    with page.expect_download() as as_json:
        _open_more(page)
        page.click("#export-json")

    assert markdown.value.suggested_filename == f"chatsite-conversation-{conversation_id}.md"
    markdown.value.save_as(tmp_path / "x.md")
    text = (tmp_path / "x.md").read_text()
    assert "## You\n\nExport me\n\n## Assistant\n\nt0 t1 \n" in text
    assert as_json.value.suggested_filename == f"chatsite-conversation-{conversation_id}.json"
    as_json.value.save_as(tmp_path / "x.json")
    data = json.loads((tmp_path / "x.json").read_text())
    assert [m["content"] for m in data["messages"]] == ["Export me", "t0 t1 "]


def test_the_copy_button_puts_the_message_on_the_clipboard(page: Page, site: Site, upstream):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    log_in(page, site)
    _start(page, "Copy this answer", upstream)

    page.click(f"{ASSISTANT} .copy-button")
    expect(page.locator(f"{ASSISTANT} .copy-button")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "t0 t1 "

    page.click('.message[data-role="user"] .copy-button')
    page.wait_for_function(
        "async () => (await navigator.clipboard.readText()) === 'Copy this answer'"
    )


def test_a_person_pins_a_conversation_archives_another_and_restores_it(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    first = _start(page, "Pin me to the top", upstream)
    page.goto(f"{site.url}/")
    second = _start(page, "Archive me for later", upstream)
    items = page.locator("#conversation-list li")
    first_link = page.locator(f'#conversation-list a[data-conversation-id="{first}"]')
    second_link = page.locator(f'#conversation-list a[data-conversation-id="{second}"]')
    expect(items.first.locator("a")).to_have_attribute("data-conversation-id", str(second))

    page.goto(f"{site.url}/c/{first}/")
    _open_more(page)
    page.click("#pin-button")
    expect(page.locator("#pin-button")).to_have_attribute("aria-pressed", "true")
    expect(items.first.locator("a")).to_have_attribute("data-conversation-id", str(first))
    page.reload()
    expect(items.first.locator("a")).to_have_attribute("data-conversation-id", str(first))
    expect(items.first.locator(".pin-mark")).to_have_text("Pinned")

    page.goto(f"{site.url}/c/{second}/")
    _open_more(page)
    page.click("#archive-button")
    expect(page.locator("#archived-note")).to_be_visible()
    expect(page.locator("#archive-button")).to_have_text("Restore")
    expect(second_link).to_have_count(0)
    page.reload()
    expect(second_link).to_have_count(0)
    page.click("#archived-section summary")
    expect(page.locator(f'#archived-list a[data-archived-id="{second}"]')).to_have_count(1)
    page.fill("#conversation-search", "Archive me")
    expect(page.locator("#search-results .pin-mark")).to_have_text("Archived")
    page.fill("#conversation-search", "")

    _open_more(page)
    page.click("#archive-button")
    expect(page.locator("#archived-note")).to_be_hidden()
    expect(second_link).to_have_count(1)
    page.reload()
    expect(second_link).to_have_count(1)
    expect(first_link).to_have_count(1)
    expect(items.first.locator("a")).to_have_attribute("data-conversation-id", str(first))


def test_a_person_imports_their_chatgpt_conversations_with_their_versions(
    page: Page, site: Site, tmp_path
):
    from tests.services.test_importing import chatgpt_conversation

    export = tmp_path / "conversations.json"
    export.write_text(json.dumps([chatgpt_conversation("Imported trip")]))
    log_in(page, site)

    page.goto(f"{site.url}/settings/data/")
    page.set_input_files("#import-file", str(export))
    page.click("#import-submit")
    expect(page.get_by_role("status")).to_have_text("Imported 1 conversations (5 messages).")

    page.goto(f"{site.url}/")
    page.get_by_role("link", name="Imported trip").click()
    expect(page.locator(".message-user .message-content").last).to_contain_text("Why Porto?")
    expect(page.locator(".message-user strong")).to_have_text("Porto")  # rendered
    porto = page.locator(".message-assistant").first
    expect(porto.locator(".message-content")).to_have_text("Porto")
    expect(porto.locator(".branch-count")).to_have_text("2/2")


def test_a_person_makes_a_project_chats_in_it_and_moves_a_conversation_there(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    loose = _start(page, "A loose question", upstream)
    page.goto(f"{site.url}/projects/")
    page.fill("#id_name", "Garden")
    page.fill("#id_system_prompt", "You are a gardener.")
    page.click("#project-save")
    expect(page.locator("h1")).to_have_text("Garden")

    page.click("#project-new-chat")
    expect(page.locator("#project-note")).to_contain_text("Garden")
    upstream.plan(tokens=2)
    page.fill("#composer-input", "When do I plant tulips?")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    assert upstream.log()[-1]["body"]["messages"][0] == {
        "role": "system",
        "content": "You are a gardener.",
    }
    expect(page.locator("#project-move option:checked")).to_have_text("Garden")

    page.goto(f"{site.url}/c/{loose}/")
    with page.expect_response(re.compile(r"/project/$")):
        _open_more(page)
        page.select_option("#project-move", label="Garden")
    page.goto(f"{site.url}/projects/")
    page.get_by_role("link", name="Garden").click()
    expect(page.locator("#project-conversations a")).to_have_count(2)


def test_a_conversation_dragged_onto_a_project_moves_there(page: Page, site: Site, upstream):
    log_in(page, site)
    page.goto(f"{site.url}/projects/")
    page.fill("#id_name", "Drop zone")
    page.click("#project-save")
    page.goto(f"{site.url}/")
    dragged = _start(page, "Drag me", upstream)
    target = page.locator("#project-list a", has_text="Drop zone")
    expect(target).to_be_visible()

    with page.expect_response(re.compile(rf"/c/{dragged}/project/$")):
        page.locator(f'#conversation-list a[data-conversation-id="{dragged}"]').drag_to(target)

    expect(page.locator("#project-move option:checked")).to_have_text("Drop zone")
    target.click()
    expect(page.locator("#project-conversations a")).to_have_text(["Drag me"])
