"""The sandbox page in a real headless Chromium (Debian's, never a downloaded one): a member
registers, answers the demo survey (a multi-choice and a skipped question), files a
proposal, and the officer finds it in their queue. Screenshots: test-artifacts/sandbox/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.sandbox.conftest import RunningSandbox

CHROMIUM = Path(os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "sandbox"
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install -e '.[test]'")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} missing: run `bash .ci/install-browser` (Debian chromium)",
)
expect = playwright_api.expect
Page = playwright_api.Page


@pytest.fixture
async def page(running_sandbox: RunningSandbox) -> AsyncIterator[Page]:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 820})
            page.set_default_timeout(10_000)
            await page.goto(running_sandbox.url)
            await page.click("#lang-toggle")  # English: the bot answers with the msgids
            yield page
        finally:
            await browser.close()


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=ARTIFACTS / f"{name}.png")


def first_bytes(path: Path, count: int) -> bytes:
    with path.open("rb") as file:
        return file.read(count)


async def say(page: Page, text: str) -> None:
    await page.fill("#text-input", text)
    await page.press("#text-input", "Enter")


async def tap(page: Page, label: str | re.Pattern[str]) -> None:
    """The newest inline button whose label contains (or matches) `label`."""
    await page.locator(".inline-button", has_text=label).last.click()


async def sees(page: Page, text: str) -> None:
    await expect(page.locator("#messages .message").last).to_contain_text(text)


async def test_member_registers_answers_files_and_officer_sees_it(page: Page) -> None:
    await page.click('[data-persona="member_a"]')
    await expect(page.locator("#messages")).to_contain_text("Send /start")
    await say(page, "/start")
    await sees(page, "Before you register")
    await tap(page, "I agree")
    await sees(page, "employee id")
    await say(page, "S1001")
    await sees(page, "full name")
    await say(page, "张晓明")
    await sees(page, "What would you like to do?")
    await expect(page.locator("#messages")).to_contain_text("Welcome, 张晓明!")
    await shot(page, "1-registered")

    await tap(page, "Surveys")
    await tap(page, "Union services: a short survey")
    await tap(page, "Start")
    await sees(page, "how satisfied")
    await tap(page, re.compile(r"^4$"))
    await sees(page, "Which union services")
    await tap(page, "Health checks")
    await tap(page, "Sports and culture")
    chosen = page.locator(".inline-button", has_text="Sports and culture").last
    await expect(chosen).to_contain_text("☑️")
    await shot(page, "2-multi-choice")
    await tap(page, "Done")
    await sees(page, "Anything else")
    await tap(page, "Skip")
    await sees(page, "do more of next year")
    await tap(page, "Welfare")
    await sees(page, "Please check your answers")
    await expect(page.locator("#messages .message").last).to_contain_text("(skipped)")
    await shot(page, "3-survey-summary")
    await tap(page, "Submit")
    await expect(page.locator("#messages")).to_contain_text("Your answers have been submitted")

    await say(page, "/menu")
    await tap(page, "Proposals")
    await tap(page, "File a proposal")
    await tap(page, "后勤服务")
    await sees(page, "send the title")
    await say(page, "食堂增加晚餐窗口")
    await say(page, "晚自习后食堂只开一个窗口，排队要二十分钟，建议增加到三个。")
    await sees(page, "characters so far")
    await tap(page, "show the preview")
    await sees(page, "食堂增加晚餐窗口")
    await tap(page, "Submit")
    # Not necessarily the last message: the outbox's status notice may overtake the reply.
    await expect(page.locator("#messages")).to_contain_text("The union officers will review it")
    await shot(page, "4-proposal-filed")

    await page.click('[data-persona="officer"]')
    await expect(page.locator("#chat-title")).to_contain_text("Officer")
    await say(page, "/menu")
    await tap(page, "Proposals to handle")
    await tap(page, "食堂增加晚餐窗口")
    await sees(page, "晚自习后食堂只开一个窗口")
    await expect(page.locator(".inline-button", has_text="Accept").last).to_be_visible()
    await shot(page, "5-officer-view")

    # The survey's results: charts arrive as photos, the export as a document to download.
    await say(page, "/menu")
    await tap(page, "Manage surveys")
    await tap(page, "Union services: a short survey")
    await tap(page, "Results")
    chart = page.locator("#messages img.photo").first
    await expect(chart).to_be_visible()
    assert await chart.evaluate("image => image.naturalWidth") > 100  # a real PNG was served
    await tap(page, "Export XLSX")
    link = page.locator("#messages a.document").last
    await expect(link).to_contain_text("sandbox-demo.xlsx")
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == "sandbox-demo.xlsx"
    saved = ARTIFACTS / download.suggested_filename
    await download.save_as(saved)
    assert first_bytes(saved, 2) == b"PK"  # a zip: XLSX
    await shot(page, "6-results")
