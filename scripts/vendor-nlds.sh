#!/bin/sh
# Vendor the NL Design System CSS the review app uses, pinned, with licence files.
#   @utrecht/component-library-css  (EUPL-1.2): the component CSS (dist/index.css)
#   @nl-design-system-unstable/voorbeeld-design-tokens (EUPL-1.2): a neutral theme (dist/theme.css)
# Never @utrecht/design-tokens: Gemeente Utrecht's proprietary brand, not for use by others.
# Usage: scripts/vendor-nlds.sh   (needs npm; writes klachtwacht/web/static/vendor/)
set -eu
UTRECHT_CSS="@utrecht/component-library-css@9.0.4"
VOORBEELD="@nl-design-system-unstable/voorbeeld-design-tokens@7.4.1"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENDOR="$ROOT/klachtwacht/web/static/vendor"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "$UTRECHT_CSS" "$VOORBEELD" >/dev/null
mkdir utrecht voorbeeld
tar -xzf utrecht-component-library-css-*.tgz -C utrecht
tar -xzf nl-design-system-unstable-voorbeeld-design-tokens-*.tgz -C voorbeeld
rm -rf "$VENDOR/utrecht-component-library-css" "$VENDOR/voorbeeld-design-tokens"
mkdir -p "$VENDOR/utrecht-component-library-css" "$VENDOR/voorbeeld-design-tokens"
cp utrecht/package/dist/index.css "$VENDOR/utrecht-component-library-css/index.css"
cp voorbeeld/package/dist/theme.css "$VENDOR/voorbeeld-design-tokens/theme.css"
for pkg in utrecht voorbeeld; do
  case $pkg in utrecht) dest=utrecht-component-library-css ;; *) dest=voorbeeld-design-tokens ;; esac
  for f in "$pkg"/package/LICENSE* "$pkg"/package/LICENCE* "$pkg"/package/NOTICE* "$pkg"/package/package.json; do
    [ -f "$f" ] && cp "$f" "$VENDOR/$dest/"
  done
done
printf '%s\n%s\n' "$UTRECHT_CSS" "$VOORBEELD" > "$VENDOR/VERSIONS"
echo "vendored into $VENDOR:"
ls -l "$VENDOR"/*
