import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ASSISTANT, Site, log_in

pytestmark = pytest.mark.browser

SETTABLE = {
    "temperature",
    "top_p",
    "max_completion_tokens",
    "reasoning_effort",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "stop",
    "response_format",
}


def _sent_parameters(upstream) -> dict:
    body = upstream.log()[-1]["body"]
    return {k: v for k, v in body.items() if k in SETTABLE}


def test_settings_chosen_in_the_panel_go_upstream_exactly_and_are_kept(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    dialog = page.locator("#settings-dialog")
    page.click("#settings-button")
    expect(dialog).to_be_visible()
    dialog.locator("[name=temperature]").fill("5")
    dialog.locator("[name=system_prompt]").fill("Be terse.")
    page.click("#settings-save")
    # Refused with the reason; the dialog stays open with everything typed.
    expect(page.locator("#settings-errors")).to_have_text(
        "Temperature must be a number from 0 to 2."
    )
    expect(dialog).to_be_visible()
    expect(dialog.locator("[name=system_prompt]")).to_have_value("Be terse.")

    dialog.locator("[name=temperature]").fill("0.4")
    dialog.locator("[name=stop]").fill("END\nSTOP")
    dialog.locator("[name=reasoning_effort]").select_option("high")
    dialog.locator("[name=json_mode]").check()
    page.click("#settings-save")
    expect(dialog).to_be_hidden()

    upstream.plan(tokens=2)
    page.fill("#composer-input", "First question")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    assert _sent_parameters(upstream) == {
        "temperature": 0.4,
        "stop": ["END", "STOP"],
        "reasoning_effort": "high",
        "response_format": {"type": "json_object"},
    }
    assert upstream.log()[-1]["body"]["messages"][0] == {"role": "system", "content": "Be terse."}

    # Now the conversation exists: the panel saves to it.
    page.click("#settings-button")
    expect(dialog.locator("[name=temperature]")).to_have_value("0.4")
    dialog.locator("[name=temperature]").fill("")
    dialog.locator("[name=json_mode]").uncheck()
    dialog.locator("[name=seed]").fill("9")
    page.click("#settings-save")
    expect(dialog).to_be_hidden()

    upstream.plan(tokens=2)
    page.fill("#composer-input", "Second question")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_count(2)
    expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "complete")
    assert _sent_parameters(upstream) == {
        "seed": 9,
        "stop": ["END", "STOP"],
        "reasoning_effort": "high",
    }

    page.reload()
    page.click("#settings-button")
    expect(dialog.locator("[name=seed]")).to_have_value("9")
    expect(dialog.locator("[name=system_prompt]")).to_have_value("Be terse.")
    expect(dialog.locator("[name=json_mode]")).not_to_be_checked()
    page.click("#settings-cancel")
    expect(dialog).to_be_hidden()


def test_a_preset_saved_once_starts_the_next_conversation_with_its_settings_and_model(
    page: Page, site: Site, upstream
):
    log_in(page, site)
    dialog = page.locator("#settings-dialog")
    page.click("#settings-button")
    dialog.locator("[name=system_prompt]").fill("Answer as a pirate.")
    dialog.locator("[name=temperature]").fill("1.3")
    page.select_option("#model-picker", label="chatsite-demo-large")
    page.fill("#preset-name", "Pirate")
    page.click("#preset-save")
    expect(page.locator("#preset-status")).to_have_text("Saved as “Pirate”.")
    page.click("#settings-cancel")

    page.goto(f"{site.url}/")  # a new chat, its settings empty, the default model
    expect(page.locator("#model-picker option:checked")).to_have_text("chatsite-demo")
    page.click("#settings-button")
    expect(dialog.locator("[name=system_prompt]")).to_have_value("")
    page.select_option("#preset-choice", label="Pirate")
    expect(dialog.locator("[name=system_prompt]")).to_have_value("Answer as a pirate.")
    page.click("#settings-save")
    expect(dialog).to_be_hidden()
    upstream.plan(tokens=2)
    page.fill("#composer-input", "Ahoy?")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    body = upstream.log()[-1]["body"]
    assert body["model"] == "chatsite-demo-large"
    assert body["temperature"] == 1.3
    assert body["messages"][0] == {"role": "system", "content": "Answer as a pirate."}
