"""Renders resources/icons/memoir.svg into the raster icons the platforms want (run after editing it).

PNG for the Linux .desktop entry and the window, .ico for Windows, .icns for macOS; Qt's own image
plugins write all three, so no other tool is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(ICONS / "memoir.svg")).render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (image plugins need an application)
    outputs = {
        ICONS / "memoir.png": render(256),
        ICONS / "memoir.ico": render(256),
        ICONS / "memoir.icns": render(512),
    }
    for path, image in outputs.items():
        if not image.save(str(path)):
            print(f"could not write {path}", file=sys.stderr)
            return 1
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
