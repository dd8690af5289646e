#!/usr/bin/env bash
# The docker stage of CI: a real Docker engine on this machine, images built locally (no registry can be
# reached), the double-booking scenario in containers (buggy must exit 1, fixed 0), then the docker tests.
# Run from the repository root after the main tests (dist/ is built). Needs root and Debian's apt.
# Fails loudly when the engine cannot be installed or started; stops the engine it started on every path.
set -euo pipefail
cd "$(dirname "$0")/../.."
t_stage=$SECONDS
stamp() { echo "[docker stage +$((SECONDS - t_stage)) s] $*"; }

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  stamp "installing docker.io and debootstrap from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -q ||
    { echo "docker stage: apt-get update failed" >&2; exit 1; }
  apt-get -o DPkg::Lock::Timeout=300 install -y -q docker.io debootstrap >/tmp/whatbreaks-apt-docker.log 2>&1 ||
    { tail -30 /tmp/whatbreaks-apt-docker.log >&2; echo "docker stage: could not install docker.io/debootstrap" >&2; exit 1; }
fi

started_dockerd=""
dockerd_log=/tmp/whatbreaks-dockerd.log
stop_dockerd() {
  if [ -n "$started_dockerd" ]; then
    stamp "stopping dockerd (pid $started_dockerd)"
    kill "$started_dockerd" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 1; done
    kill -9 "$started_dockerd" 2>/dev/null || true
  fi
}
trap stop_dockerd EXIT
if docker info >/dev/null 2>&1; then
  stamp "a Docker engine already answers: using it"
else
  stamp "starting dockerd (vfs storage, no iptables)"
  dockerd --iptables=false --ip6tables=false --storage-driver=vfs >"$dockerd_log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -30 "$dockerd_log" >&2; echo "docker stage: dockerd did not answer within 60 s" >&2; exit 1; }
fi
docker info --format 'engine {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupVersion}}'

stamp "base images (rootfs cached under /var/cache/whatbreaks)"
bash ci/docker/build-base-images.sh
docker images

export TESTCONTAINERS_RYUK_DISABLED=true
export WHATBREAKS_POSTGRES_IMAGE=whatbreaks/postgres:15-local
export WHATBREAKS_NODE_IMAGE=whatbreaks/node:20-local
out=$(mktemp -d /tmp/whatbreaks-docker-stage.XXXXXX)
run() { # run VARIANT EXPECTED_EXIT
  local t0=$SECONDS code=0
  node bin/whatbreaks.js run scenarios/double-booking.yaml --env docker --variant "$1" --trials 3 \
    --build-arg NODE_IMAGE="$WHATBREAKS_NODE_IMAGE" --out "$out/$1" || code=$?
  stamp "double-booking --env docker --variant $1: exit $code (expected $2) in $((SECONDS - t0)) s"
  [ "$code" = "$2" ] || { echo "docker stage: double-booking $1 exited $code, expected $2" >&2; exit 1; }
}
run buggy 1
run fixed 0
left=$(docker ps -aq --filter label=dev.whatbreaks.run | wc -l)
[ "$left" = 0 ] || { docker ps -a; echo "docker stage: $left containers left behind" >&2; exit 1; }

stamp "docker tests"
npx vitest run test/docker.test.ts --reporter=default --reporter=json --outputFile.json=.ci-vitest-docker.json
# None may be skipped here, and every test the main stage skipped (it had no engine) must have passed.
covers=()
[ -f .ci-vitest.json ] && covers=(--covers .ci-vitest.json)
node ci/check-skips.mjs .ci-vitest-docker.json "${covers[@]}"
stamp "done"
