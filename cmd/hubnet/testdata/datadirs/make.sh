#!/usr/bin/env bash
# make.sh HUBNET OUT makes, with the hubnet binary HUBNET, the data directory of a hub
# that has worked for a while, and puts it in OUT: hubnet.db and token, and what the
# node served about itself before it stopped (self.json, hubs.json and, where HUBNET
# has referrals, referrals.json and report.json). TestRun_olderDataDir starts the
# hubnet of today on it. Build HUBNET from the last commit of a schema version:
#
#   mkdir OLD && git archive COMMIT | tar -x -C OLD && (cd OLD && go build -o hubnet ./cmd/hubnet)
#   ./make.sh OLD/hubnet schemaN
#
# Two hubs, robocoast (kept) and digihall, join on 127.0.0.1; robocoast changes its
# capacity. With referrals, each refers SMEs to the other and the referrals end up
# completed, rejected, cancelled and in progress: states no deadline changes later.
set -euo pipefail

bin=$(realpath "$1")
out=$(realpath -m "$2")
demo=$(cd "$(dirname "$0")/../../demodata" && pwd)
example=$(cd "$(dirname "$0")/../../../../docs/examples" && pwd)/referral.yaml
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

run() { # run DIR [flags]: start a node in the background
	"$bin" run -d "$1" --gossip-addr 127.0.0.1:0 --cluster-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 \
		--gossip local "${@:2}" 2>"$1.log" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$1/node.json" ] && return; sleep 0.1; done
	echo "node in $1 did not start:" >&2; cat "$1.log" >&2; exit 1
}
until_ok() { # until_ok CMD...: retry CMD for up to 20 s
	for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return; sleep 0.2; done
	echo "gave up: $*" >&2; exit 1
}
id_of() { sed -n 's/^ *"id": "\([^"]*\)".*/\1/p' | head -1; }
state_is() { # state_is DIR ID STATE
	"$bin" -d "$1" referrals show "$2" --json | grep -q "\"state\": \"$3\""
}

"$bin" network create schema-test -o network.json >/dev/null
"$bin" init -d one --network network.json --id robocoast --profile "$demo/robocoast.yaml" >/dev/null
"$bin" init -d two --network network.json --id digihall --profile "$demo/digihall.yaml" >/dev/null
run one
run two --join "$(sed -n 's/.*"gossip": *"\([^"]*\)".*/\1/p' one/node.json)"
until_ok sh -c "'$bin' -d one hubs --json | grep -q '\"id\": \"digihall\"'"
until_ok sh -c "'$bin' -d two hubs --json | grep -q '\"id\": \"robocoast\"'"
"$bin" -d one profile capacity set test-before-invest 2 --max 6 >/dev/null

if "$bin" refer --help >/dev/null 2>&1; then
	refer() { "$bin" -d "$1" refer -f "$example" --to "$2" --consent-until 2099-12-31 --json | id_of; }
	# robocoast refers four SMEs to digihall.
	r1=$(refer one digihall); r2=$(refer one digihall); r3=$(refer one digihall); r4=$(refer one digihall)
	# digihall refers two to robocoast.
	r5=$(refer two robocoast); r6=$(refer two robocoast)
	for r in "$r1" "$r2" "$r3" "$r4"; do until_ok state_is two "$r" received; done
	for r in "$r5" "$r6"; do until_ok state_is one "$r" received; done
	"$bin" -d two referrals accept "$r1" >/dev/null
	"$bin" -d two referrals start "$r1" >/dev/null
	"$bin" -d two referrals complete "$r1" --outcome service-delivered >/dev/null
	"$bin" -d two referrals decline "$r2" --reason no-capacity >/dev/null
	"$bin" -d two referrals accept "$r3" >/dev/null
	"$bin" -d two referrals accept "$r4" >/dev/null
	"$bin" -d two referrals start "$r4" >/dev/null
	until_ok state_is one "$r3" accepted
	"$bin" -d one referrals cancel "$r3" --reason sme-withdrew >/dev/null
	"$bin" -d one referrals accept "$r5" >/dev/null
	"$bin" -d one referrals start "$r5" >/dev/null
	"$bin" -d one referrals complete "$r5" --outcome partially-delivered >/dev/null
	"$bin" -d one referrals decline "$r6" --reason out-of-scope >/dev/null
	until_ok state_is one "$r1" completed
	until_ok state_is one "$r4" in-progress
	until_ok state_is two "$r3" cancelled
	until_ok sh -c "'$bin' -d one referrals show '$r5' --json | grep -q '\"pending\": 0'"
	until_ok sh -c "'$bin' -d one referrals show '$r6' --json | grep -q '\"pending\": 0'"
	until_ok sh -c "'$bin' -d one referrals show '$r3' --json | grep -q '\"pending\": 0'"
fi

mkdir -p "$out"
"$bin" -d one hubs --json >"$out/hubs.json"
"$bin" -d one profile show --json >"$out/self.json"
if "$bin" refer --help >/dev/null 2>&1; then
	"$bin" -d one referrals --json >"$out/referrals.json"
	"$bin" -d one report --from 2000-01-01 --to 2100-01-01 --json >"$out/report.json"
fi
kill -TERM "${pids[@]}"
wait
pids=()
cp one/hubnet.db one/token "$out/"
chmod 600 "$out/hubnet.db" "$out/token"
