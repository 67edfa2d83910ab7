#!/usr/bin/env bash
# Compiles every native source (syntax and types, no object files) against another libtorch's headers, to
# catch API changes between libtorch versions without installing that libtorch or a GPU. The addon itself is
# built against one libtorch only (scripts/torch-paths.cjs); the differences are handled in native/torch_compat.h.
#
#   scripts/check-torch-api.sh <folder>            a libtorch holding include/ (LIBTORCH layout) or usr/include/
#   scripts/check-torch-api.sh --debian <version>  Debian's libtorch-dev <version> and a matching libgloo-dev,
#                                                  downloaded into a temporary folder (removed afterwards), e.g.
#                                                  2.6.0+dfsg-7 (trixie) or 2.14.1+dfsg-1 (sid)
#   --cuda   also compile the NCCL process group (USE_C10D_NCCL): needs CUDA's headers (CUDA_HOME, default
#            /usr/local/cuda) and nccl.h (NCCL_INCLUDE, or Debian non-free's libnccl-dev with --debian); with
#            --debian, libtorch-cuda-dev <version> (Debian contrib) replaces libtorch-dev
# Environment: CXXFLAGS is added to the compiler's flags (e.g. -I for headers kept elsewhere); CHECK_FILES
# names the sources to check (default native/*.cc).
#
# Prints one line per file and the first errors; exits non-zero when a file fails.
set -euo pipefail
cd "$(dirname "$0")/.."

cuda=0 debian= root=
while (($#)); do
  case "$1" in
    --cuda) cuda=1 ;;
    --debian) debian=${2:?--debian needs a version}; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) root=$1 ;;
  esac
  shift
done

tmp=
cleanup() { [[ -n "$tmp" ]] && rm -rf "$tmp"; }
trap cleanup EXIT

if [[ -n "$debian" ]]; then
  # A private apt state: the machine's own sources and package lists are left alone. Debian's suites are
  # listed with contrib/non-free for libtorch-cuda-dev and libnccl-dev; an expired mirror snapshot is accepted.
  tmp=$(mktemp -d /tmp/check-torch-api.XXXXXX)
  mkdir -p "$tmp/lists/partial" "$tmp/deb" "$tmp/root"
  for suite in trixie sid; do
    echo "deb http://deb.debian.org/debian $suite main contrib non-free"
  done >"$tmp/sources.list"
  apt=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$tmp/lists"
    -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User=root)
  apt-get "${apt[@]}" update -qq >/dev/null
  torch_pkg=libtorch-dev
  ((cuda)) && torch_pkg=libtorch-cuda-dev
  # libgloo-dev from the same suite as that libtorch (the Gloo it was built with).
  suite=$(apt-cache "${apt[@]}" madison "$torch_pkg" | awk -F' [|] ' -v v="$debian" '$2 == v { split($3, a, " "); print a[2]; exit }')
  [[ -n "$suite" ]] || { echo "check-torch-api: Debian has no $torch_pkg $debian" >&2; exit 2; }
  gloo=$(apt-cache "${apt[@]}" madison libgloo-dev | awk -F' [|] ' -v s="$suite" '{ split($3, a, " ") } a[2] == s { print $2; exit }')
  pkgs=("$torch_pkg=$debian" "libgloo-dev${gloo:+=$gloo}")
  ((cuda)) && pkgs+=(libnccl-dev)
  (cd "$tmp/deb" && apt-get "${apt[@]}" download "${pkgs[@]}" >/dev/null)
  for f in "$tmp"/deb/*.deb; do dpkg -x "$f" "$tmp/root"; done
  root=$tmp/root/usr
  ((cuda)) && NCCL_INCLUDE=${NCCL_INCLUDE:-$root/include}
fi

[[ -n "$root" ]] || { sed -n '2,15p' "$0"; exit 2; }
[[ -d "$root/include/torch" ]] || root=$root/usr
[[ -d "$root/include/torch" ]] || { echo "check-torch-api: no include/torch under $root" >&2; exit 2; }

# The standard and libtorch's include folders as binding.gyp gets them.
std=$(LIBTORCH=$root node scripts/torch-paths.cjs cxx-std)
read -r -a torch_includes <<<"$(LIBTORCH=$root node scripts/torch-paths.cjs include)"
flags=(-std="$std" -fsyntax-only -fexceptions -frtti -w -D_GLIBCXX_USE_CXX11_ABI=1 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS
  -DBUILDING_NODE_EXTENSION -I"$(node -p "require('node-addon-api').include_dir")" -I"$(dirname "$(command -v node)")/../include/node"
  -I/usr/include/node "${torch_includes[@]/#/-I}")
if ((cuda)); then
  cuda_home=${CUDA_HOME:-/usr/local/cuda}
  flags+=(-DUSE_C10D_NCCL -DUSE_CUDA -I"$cuda_home/include" ${NCCL_INCLUDE:+-I"$NCCL_INCLUDE"})
fi
read -r -a extra <<<"${CXXFLAGS:-}"
flags+=("${extra[@]}")
version=$(sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$root"/include/torch/headeronly/version.h "$root"/include/torch/csrc/api/include/torch/version.h 2>/dev/null | head -3 | paste -sd. || true)
gloo_headers=no
[[ -f "$root/include/gloo/algorithm.h" || -f /usr/include/gloo/algorithm.h ]] && gloo_headers=yes
echo "check-torch-api: libtorch ${version:-?} at $root, -std=$std, Gloo headers: $gloo_headers$( ((cuda)) && echo ', with NCCL' || true)"

failed=0
for f in ${CHECK_FILES:-native/*.cc}; do
  if out=$(g++ "${flags[@]}" "$f" 2>&1); then
    echo "ok    $f"
  else
    failed=1
    echo "FAIL  $f"
    grep -E -A2 "error" <<<"$out" | head -20 | sed 's/^/      /'
  fi
done
exit $failed
