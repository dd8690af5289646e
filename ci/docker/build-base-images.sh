#!/usr/bin/env bash
# Build, from Debian's packages only, the two base images the docker stage of CI uses — for machines
# where no container registry can be reached (official images cannot be pulled there):
#
#   whatbreaks/node:20-local       Debian minbase + this machine's own `node` binary (Debian's nodejs is 18)
#   whatbreaks/postgres:15-local   Debian minbase + postgresql-15 + postgres/docker-entrypoint.sh, which reads
#                                  POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB like the official image's
#                                  does, so `@testcontainers/postgresql` starts it unchanged
#
# The root filesystems come from `debootstrap --variant=minbase` against the mirror in this machine's apt
# sources and are cached as tarballs under $WHATBREAKS_CACHE (default /var/cache/whatbreaks): a second run
# only re-imports them. Images that already exist are kept; pass --force to rebuild them.
# Needs root, debootstrap and a running Docker engine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${WHATBREAKS_CACHE:-/var/cache/whatbreaks}"
force=0
[ "${1:-}" = "--force" ] && force=1
mkdir -p "$cache"
. /etc/os-release
suite="${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"

# The Debian mirror this machine's apt uses (deb822 `.sources` or one-line `sources.list`), not -security.
mirror() {
  local m=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    m=$(awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
      $0 ~ ("Suites:[^\n]*[ \t]" suite "([ \t]|\n|$)") && $0 !~ /security/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); print a[2]; exit } }' "$f")
    [ -n "$m" ] && break
  done
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk -v suite="$suite" '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i == suite) { u = ($2 ~ /^\[/) ? $3 : $2; print u; exit } }' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# rootfs NAME INCLUDE: a cached tarball of a minbase root filesystem with INCLUDE packages.
rootfs() {
  local name="$1" include="$2" tarball="$cache/rootfs-$1-$suite.tar"
  if [ -s "$tarball" ]; then
    echo "rootfs $name: cached $tarball" >&2
  else
    local dir
    dir=$(mktemp -d "$cache/debootstrap-$name.XXXXXX")
    local t0=$SECONDS
    echo "rootfs $name: debootstrap $suite from $(mirror) (include: ${include:-nothing})" >&2
    debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$dir" "$(mirror)" >"$cache/debootstrap-$name.log" 2>&1 ||
      { tail -20 "$cache/debootstrap-$name.log" >&2; rm -rf "$dir"; exit 1; }
    # Documentation, locales and apt's lists only make every container copy bigger (vfs copies whole layers).
    rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*
    find "$dir/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
    chmod 755 "$dir" # mktemp made it 0700: it becomes the image's `/`, which every user must traverse
    tar -C "$dir" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
    echo "rootfs $name: built in $((SECONDS - t0)) s ($(du -h "$tarball" | cut -f1))" >&2
  fi
  echo "$tarball"
}

exists() { docker image inspect "$1" >/dev/null 2>&1; }

# import TARBALL OVERLAY IMAGE CHANGES…: `docker import` of the cached root filesystem with the files of the
# OVERLAY folder added (replacing files of the same name; folders that exist already are kept), image
# settings given as --change. One layer and no `docker build`: on the vfs storage driver every build step
# copies the whole image, which costs minutes.
import_with() {
  local tarball="$1" overlay="$2" image="$3"
  shift 3
  local tmp list base
  tmp=$(mktemp "$cache/import.XXXXXX.tar")
  list=$(mktemp)
  base=$(mktemp)
  cp "$tarball" "$tmp"
  tar -tf "$tarball" | sed 's:/$::' | sort -u >"$base"
  (cd "$overlay" && find . -mindepth 1 \( -type d -exec sh -c 'grep -qxF "$1" "$0" || echo "$1"' "$base" {} \; \) -o \( ! -type d -print \)) | sort >"$list"
  # A layer may not hold a path twice: drop the files the overlay replaces.
  comm -12 "$base" "$list" >"$base.del"
  [ -s "$base.del" ] && tar --delete -f "$tmp" -T "$base.del"
  tar -C "$overlay" --numeric-owner --no-recursion -rf "$tmp" -T "$list"
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  docker import "${changes[@]}" "$tmp" "$image" >/dev/null
  rm -f "$tmp" "$list" "$base" "$base.del"
}

# Owner of a user in the root filesystem's /etc/passwd (uid:gid).
owner_in() { tar -xOf "$1" ./etc/passwd | awk -F: -v u="$2" '$1 == u { print $3 ":" $4 }'; }

# node: minbase + the node binary that runs whatbreaks here (so the targets run on the same Node), a `node`
# user (uid 1000) like the official image's.
if [ $force = 1 ] || ! exists whatbreaks/node:20-local; then
  t0=$SECONDS
  tarball=$(rootfs minbase "ca-certificates")
  overlay=$(mktemp -d)
  mkdir -p "$overlay/usr/local/bin" "$overlay/etc" "$overlay/home/node"
  cp "$(readlink -f "$(command -v node)")" "$overlay/usr/local/bin/node"
  tar -xOf "$tarball" ./etc/passwd >"$overlay/etc/passwd"
  tar -xOf "$tarball" ./etc/group >"$overlay/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$overlay/etc/passwd"
  echo 'node:x:1000:' >>"$overlay/etc/group"
  chown 1000:1000 "$overlay/home/node"
  import_with "$tarball" "$overlay" whatbreaks/node:20-local \
    'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["node"]'
  rm -rf "$overlay"
  echo "image whatbreaks/node:20-local ($(docker run --rm whatbreaks/node:20-local node --version)) in $((SECONDS - t0)) s" >&2
else
  echo "image whatbreaks/node:20-local: present" >&2
fi

# postgres: minbase + postgresql-15 + an official-image-like entrypoint (ci/docker/postgres/).
if [ $force = 1 ] || ! exists whatbreaks/postgres:15-local; then
  t0=$SECONDS
  tarball=$(rootfs postgres "postgresql-15")
  owner=$(owner_in "$tarball" postgres)
  overlay=$(mktemp -d)
  mkdir -p "$overlay/usr/local/bin" "$overlay/docker-entrypoint-initdb.d" "$overlay/var/lib/postgresql/data" "$overlay/run/postgresql"
  install -m 755 "$here/postgres/docker-entrypoint.sh" "$overlay/usr/local/bin/docker-entrypoint.sh"
  chown -R "$owner" "$overlay/var/lib/postgresql" "$overlay/run/postgresql"
  chmod 700 "$overlay/var/lib/postgresql/data"
  import_with "$tarball" "$overlay" whatbreaks/postgres:15-local \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV PGDATA=/var/lib/postgresql/data' 'USER postgres' 'EXPOSE 5432' \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]'
  rm -rf "$overlay"
  echo "image whatbreaks/postgres:15-local in $((SECONDS - t0)) s" >&2
else
  echo "image whatbreaks/postgres:15-local: present" >&2
fi
