"""The base layout in a real browser: usable by keyboard with a visible focus, and dark when the system is."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Console, login

pytestmark = [pytest.mark.browser, pytest.mark.integration]

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim(),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          colour: style.outlineColor};
}"""


def luminance(css_colour: str) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white), of an ``rgb(r, g, b)`` computed colour."""
    channels = [int(part) / 255 for part in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]]
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def tab_through(page, count: int) -> list[dict]:
    stops = []
    for _ in range(count):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
    return stops


def test_tab_reaches_the_navigation_and_the_pool_controls_with_a_visible_focus(
    browser, console: Console, real_pool
) -> None:
    page = login(browser, console, "olga")
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    expect(page.get_by_role("heading", name=f"Pool {real_pool.name}")).to_be_visible()
    stops = tab_through(page, 16)
    reached = [stop["text"] for stop in stops]
    for wanted in ("Skip to content", "Pools", "Configs", "Shares", "Log out", "Refresh", "Filter"):
        assert wanted in reached, reached
    assert all(stop["outline"] for stop in stops), stops
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert all(contrast(stop["colour"], background) >= 3 for stop in stops), (background, stops)


def test_the_skip_link_moves_the_focus_to_the_main_content(browser, console: Console) -> None:
    page = login(browser, console, "olga")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_login_form_is_filled_and_sent_by_keyboard_alone(browser, console: Console) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{console.url}/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type("olga")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Pools")).to_be_visible()


@pytest.mark.parametrize(("scheme", "dark"), [("dark", True), ("light", False)])
def test_the_console_follows_the_systems_colour_scheme(browser, console: Console, scheme: str, dark: bool) -> None:
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{console.url}/login/")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    text = page.evaluate("getComputedStyle(document.body).color")
    assert (luminance(background) < 0.3) is dark, background
    assert (luminance(text) > 0.7) is dark, text
    context.close()


def test_a_console_that_stops_answering_is_said_so_until_it_answers_again(browser, console: Console, real_pool) -> None:
    page = login(browser, console, "olga")
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    problem = page.locator("#htmx-error")
    expect(problem).to_be_hidden()
    console.stop()
    try:
        expect(problem).to_contain_text("The console does not answer", timeout=20_000)
    finally:
        console.start()
    expect(problem).to_be_hidden(timeout=20_000)


@pytest.mark.parametrize("width", [1280, 2560])
def test_the_pool_page_fits_a_laptop_and_a_wide_monitor(browser, console: Console, real_pool, width: int) -> None:
    page = login(browser, console, "olga")
    page.set_viewport_size({"width": width, "height": 900})
    page.locator("main").get_by_role("link", name=real_pool.name, exact=True).first.click()
    expect(page.locator("table.daemons")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # On a wide monitor the content keeps a readable width rather than spreading over the whole screen.
    assert page.locator("main").bounding_box()["width"] <= 1600
    # ... and the top bar's brand lines up with the page's heading.
    brand, heading = page.locator(".brand").bounding_box(), page.locator("main h1").bounding_box()
    assert abs(brand["x"] - heading["x"]) < 2, (brand, heading)


def test_the_pool_form_says_it_is_querying_the_collector_while_it_waits(browser, console: Console) -> None:
    page = login(browser, console, "adam")
    page.goto(f"{console.url}/pool/add/")
    busy = page.locator("form[data-busy] .busy")
    expect(busy).to_be_hidden()
    page.get_by_label("Name").fill("slow")
    page.get_by_label("Collector").fill("192.0.2.1:9618")
    # Hold the form here, as a slow collector would hold the answer.
    page.evaluate("document.querySelector('form[data-busy]').addEventListener('submit', (e) => e.preventDefault())")
    page.get_by_role("button", name="Check and add").click()
    expect(busy).to_be_visible()
    expect(busy).to_contain_text("Querying the collector")
    expect(page.get_by_role("button", name="Check and add")).to_be_disabled()
