#!/usr/bin/env bash
# Makes brickyard-test/busybox:1: a busybox-static root filesystem imported
# with `docker import`. Tiny, and needs no registry. Idempotent.
set -euo pipefail
image="${1:-brickyard-test/busybox:1}"
docker image inspect "$image" >/dev/null 2>&1 && exit 0
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] && "$busybox" --list >/dev/null 2>&1 || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
root="$(mktemp -d)"; trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/www"
echo ok > "$root/www/index.html"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
tar -C "$root" -c . | docker import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - "$image" >/dev/null
echo "$image"
