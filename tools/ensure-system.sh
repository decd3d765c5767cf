#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the studio and its tests:
#  - chromium: the browser the e2e tests and the benchmark drive (Playwright uses it, never downloads one);
#  - Mesa's lavapipe (mesa-vulkan-drivers from bookworm-backports): the software Vulkan driver that Dawn
#    (the `webgpu` npm package) uses in Node; Debian 12's own Mesa 22 is too old for Dawn;
#  - dataset-fashion-mnist: the demo model's 10k test set, used by the accuracy tests.
# Idempotent and quiet when everything is present.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Dawn needs Mesa >= 23 (bookworm ships 22.3): check the version, not just that lavapipe is there.
mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
case "$mesa_version" in 2[3-9].*|[3-9][0-9].*) ;; *) need+=(mesa) ;; esac
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "ensure-system: installing ${need[*]}" >&2
if [ ! -f /etc/apt/sources.list.d/backports.list ]; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
fi
$SUDO apt-get update -q >/dev/null
pkgs=()
for p in "${need[@]}"; do
  case $p in
    mesa) $SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null ;;
    *) pkgs+=("$p") ;;
  esac
done
[ ${#pkgs[@]} -eq 0 ] || $SUDO apt-get install -y -q "${pkgs[@]}" >/dev/null
