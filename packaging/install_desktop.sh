#!/bin/sh
# Install the built bundle (dist/memoir) for the current user on a Linux desktop: the program in
# ~/.local/lib/memoir, a `memoir` command in ~/.local/bin, the menu entry and its icon.
# Run `make dist` first. Uninstall: rm -r ~/.local/lib/memoir ~/.local/bin/memoir
#   ~/.local/share/applications/memoir.desktop ~/.local/share/icons/hicolor/256x256/apps/memoir.png
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bundle="$here/dist/memoir"
prefix="${PREFIX:-$HOME/.local}"
[ -x "$bundle/memoir" ] || { echo "no bundle in $bundle: run 'make dist' first" >&2; exit 1; }
mkdir -p "$prefix/lib" "$prefix/bin" "$prefix/share/applications" "$prefix/share/icons/hicolor/256x256/apps"
rm -rf "$prefix/lib/memoir"
cp -a "$bundle" "$prefix/lib/memoir"
ln -sf "$prefix/lib/memoir/memoir" "$prefix/bin/memoir"
# The menu entry runs the installed copy by its full path: ~/.local/bin is not always on PATH there.
sed "s|^Exec=memoir$|Exec=$prefix/lib/memoir/memoir|" "$here/packaging/memoir.desktop" \
    > "$prefix/share/applications/memoir.desktop"
cp "$here/resources/icons/memoir.png" "$prefix/share/icons/hicolor/256x256/apps/memoir.png"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/share/applications" || true
echo "Memoir installed in $prefix/lib/memoir; it is in your applications menu."
