"""Light and dark, following the system: the colours Memoir paints with, the stylesheet filled with
them, and the application palette.

The system's choice comes from Qt (``QStyleHints.colorScheme``: the desktop's setting on Windows,
macOS and GNOME/KDE through their platform themes); where Qt cannot tell, the palette's window
colour decides. When the system switches while Memoir runs, :func:`follow_system` re-applies
everything and the transcript repaints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Theme:
    dark: bool
    text: str  # message text
    muted: str  # headers, hints, neutral receipt rows
    link: str  # "Copy", the receipts header
    good: str  # "used", Helpful
    bad: str  # failures, Not relevant, Stop
    idle: str  # an unchosen feedback button's border
    transcript: str  # the transcript's background
    user_bubble: str
    reply_bubble: str
    error_bubble: str
    selected: str  # a selected bubble's border
    code: str  # code blocks' background
    border: str
    accent: str  # focus
    selection: str  # the selected conversation
    banner: str
    banner_border: str
    highlight: str  # search matches


LIGHT = Theme(
    dark=False,
    text="#1f2328",
    muted="#57606a",
    link="#0969da",
    good="#1a7f37",
    bad="#b42318",
    idle="#8c959f",
    transcript="#ffffff",
    user_bubble="#dbe9ff",
    reply_bubble="#f3f4f6",
    error_bubble="#fdecea",
    selected="#7aa7e8",
    code="#e8eaee",
    border="#d0d7de",
    accent="#2f5fb3",
    selection="#dbe9ff",
    banner="#fff4e5",
    banner_border="#f0b357",
    highlight="#fff3b0",
)

DARK = Theme(
    dark=True,
    text="#e6edf3",
    muted="#9198a1",
    link="#4493f8",
    good="#3fb950",
    bad="#f85149",
    idle="#6e7681",
    transcript="#0d1117",
    user_bubble="#1f3a5f",
    reply_bubble="#21262d",
    error_bubble="#4a1f1f",
    selected="#4493f8",
    code="#2d333b",
    border="#3d444d",
    accent="#4493f8",
    selection="#1f3a5f",
    banner="#3b2e12",
    banner_border="#9e6a03",
    highlight="#6b5a12",
)

APPEARANCES = ("system", "light", "dark")  # Settings → Appearance
_current = LIGHT
_system_palette: QPalette | None = None  # the palette the system gave, restored for light
_template = ""  # the stylesheet with @names, as last applied
_appearance = "system"


def appearance() -> str:
    """What Settings → Appearance asks for: "system", "light" or "dark"."""
    return _appearance


def current() -> Theme:
    """The theme in use (what painting code asks for at paint time)."""
    return _current


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return False
    scheme = app.styleHints().colorScheme()
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def stylesheet(template: str, theme: Theme) -> str:
    """The stylesheet with its ``@name`` colours filled in from ``theme``."""
    for name, value in sorted(asdict(theme).items(), key=lambda item: -len(item[0])):
        if isinstance(value, str):
            template = template.replace(f"@{name}", value)
    return template


def apply(app: QApplication, template: str, dark: bool | None = None) -> Theme:
    """Use the light or dark theme (the system's choice unless ``dark`` says): palette and stylesheet."""
    global _current, _system_palette, _template
    _template = template
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    _current = DARK if (system_prefers_dark() if dark is None else dark) else LIGHT
    app.setPalette(_dark_palette(_current) if _current.dark else _system_palette)
    app.setStyleSheet(stylesheet(template, _current))
    return _current


def choose(app: QApplication, appearance: str, template: str | None = None) -> Theme:
    """Settings → Appearance: as the system is (and follows it), or always light, or always dark."""
    global _appearance
    _appearance = appearance if appearance in APPEARANCES else "system"
    dark = None if _appearance == "system" else _appearance == "dark"
    return apply(app, _template if template is None else template, dark)


def use(appearance: str) -> None:
    """Settings → Appearance changed: apply it to the running application (if it changed)."""
    app = QApplication.instance()
    if isinstance(app, QApplication) and appearance != _appearance:
        choose(app, appearance)
        for widget in app.topLevelWidgets():
            widget.update()  # painted colours come from the theme at paint time


def follow_system(app: QApplication, template: str, repaint: Callable[[], None]) -> None:
    """Switch with the system while Memoir runs (unless Settings fix the appearance)."""

    def switched(scheme: Qt.ColorScheme) -> None:
        if _appearance != "system":
            return
        apply(app, template, None if scheme == Qt.ColorScheme.Unknown else scheme == Qt.ColorScheme.Dark)
        repaint()

    app.styleHints().colorSchemeChanged.connect(switched)


def _dark_palette(theme: Theme) -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#161b22"),
        (roles.WindowText, theme.text),
        (roles.Base, "#0d1117"),
        (roles.AlternateBase, "#161b22"),
        (roles.Text, theme.text),
        (roles.Button, "#21262d"),
        (roles.ButtonText, theme.text),
        (roles.ToolTipBase, "#21262d"),
        (roles.ToolTipText, theme.text),
        (roles.PlaceholderText, theme.muted),
        (roles.Highlight, "#1f6feb"),
        (roles.HighlightedText, "#ffffff"),
        (roles.Link, theme.link),
    ):
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor(theme.idle))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor(theme.idle))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor(theme.idle))
    return palette
