"""Reading a simulator's sign-in page the way a browser would (for scripted flows and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class SignInForm:
    """The sign-in form of a simulator page, as a browser sees it."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    select_name: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    selected: str | None = None
    testids: set[str] = field(default_factory=set)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = SignInForm()
        self._option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "data-testid" in values:
            self.form.testids.add(values["data-testid"])
        if tag == "form":
            self.form.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.form.hidden[values["name"]] = values.get("value", "")
        elif tag == "select":
            self.form.select_name = values.get("name", "")
        elif tag == "option":
            self._option = values.get("value", "")
            if "selected" in values:
                self.form.selected = self._option

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self.form.options.append((self._option, data))
            self._option = None


def parse_signin_form(html: str) -> SignInForm:
    """Read the sign-in form out of a simulator page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.form
