#!/usr/bin/env bash
# Wrap Reelgate.app into a compressed, drag-to-install disk image (macOS only).
#
#   packaging/macos/make_dmg.sh [dist/Reelgate.app] [dist/Reelgate-<version>.dmg]
#
# packaging/build.py calls it after PyInstaller's BUNDLE step. The image holds the app and a
# link to /Applications. The app is neither signed nor notarized: Gatekeeper asks users to
# confirm the first launch (right-click > Open) until a Developer ID signature is added.
set -euo pipefail

app="${1:-dist/Reelgate.app}"
if [[ ! -d "$app" ]]; then
    echo "make_dmg.sh: $app not found; run python3 packaging/build.py first" >&2
    exit 1
fi
version="$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")"
dmg="${2:-$(dirname "$app")/Reelgate-$version.dmg}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
ditto "$app" "$stage/Reelgate.app"
ln -s /Applications "$stage/Applications"

hdiutil create -volname Reelgate -srcfolder "$stage" -ov -format UDZO "$dmg"
echo "make_dmg.sh: $dmg"
