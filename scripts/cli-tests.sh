#!/usr/bin/env bash
# The roster command line, end to end on a fresh SQLite data folder: each step runs the real
# binary and checks what it printed, its exit status, or what the API then shows.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ROSTER_BIN:-target/debug/roster}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export ROSTER_DATA_DIR=$data
unset DATABASE_URL ROSTER_SECRET_KEY ROSTER_OWNER_PASSWORD
passed=0 failed=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed+1)); echo "ok   $name"; else failed=$((failed+1)); echo "FAIL $name"; fi
}
out() { "$bin" "$@" 2>&1; }

check "version prints" bash -c "$bin --version | grep -q '^roster '"
first=$(out init --org "CLI Org" --owner-email Owner@CLI.example)
check "init creates the first organization" grep -q "Created organization CLI Org (id 1) with Owner owner@cli.example" <<<"$first"
check "init without a password prints a set-password link" grep -q "/user/set-password?token=" <<<"$first"
check "init keeps the secret outside the database, private" bash -c "[ \"\$(stat -c %a $data/secret.key)\" = 600 ]"
check "init makes a new data folder private (700) and its database 600" bash -c "ROSTER_DATA_DIR=$data/new/folder $bin init --org Private --owner-email p@cli.example && [ \"\$(stat -c %a $data/new/folder)\" = 700 ] && [ \"\$(stat -c %a $data/new/folder/roster.db)\" = 600 ]"
second=$(out init --org "Again" --owner-email other@cli.example || true)
check "a second init is refused with a clear message" grep -q "already initialized" <<<"$second"
check "a second init exits non-zero" bash -c "! $bin init --org Again --owner-email other@cli.example"
check "passwords are read from standard input" bash -c "printf 'a long enough password\n' | $bin org create --title 'Second' --owner-email boss@cli.example --password-stdin | grep -q 'Created organization Second (id 2)'"
check "a too-short password is refused" bash -c "! (printf 'short\n' | $bin org create --title 'Third' --owner-email x@cli.example --password-stdin)"
check "migrate reports an up-to-date database" bash -c "$bin migrate | grep -q 'up to date'"
check "reset-password prints a one-time link" bash -c "$bin user reset-password boss@cli.example | grep -q '/user/set-password?token='"
check "reset-password for an unknown email fails" bash -c "! $bin user reset-password nobody@cli.example"
check "invite link prints the sign-up URL" bash -c "$bin invite link --org 1 | grep -q '/user/signup/?token='"
old=$("$bin" invite link --org 1); new=$("$bin" invite reset --org 1)
check "invite reset makes a new link" test "$old" != "$new"
check "seat limit is set" bash -c "$bin org seats --org 1 --limit 5 | grep -q '1 of 5 seats in use'"
check "seat limit none means unlimited" bash -c "$bin org seats --org 1 --limit none | grep -q 'no limit'"
check "seat limit rejects words" bash -c "! $bin org seats --org 1 --limit lots"
check "a domain is verified for an organization" bash -c "$bin org domain add --org 1 Example.COM | grep -q 'example.com is verified for organization 1'"
check "verified domains are listed" bash -c "$bin org domain list --org 1 | grep -qx 'example.com'"
check "a domain belongs to one organization" bash -c "! $bin org domain add --org 1 example.com 2>/dev/null"
check "a domain that is not one is refused" bash -c "! $bin org domain add --org 1 localhost 2>/dev/null"
check "single sign-on only needs an identity provider first" bash -c "! $bin org sso-only --org 1 on 2>/dev/null && $bin org sso-only --org 1 on 2>&1 | grep -q 'identity provider'"
check "single sign-on only is switched off by the operator" bash -c "$bin org sso-only --org 1 off | grep -q 'accepts passwords'"
check "single sign-on only takes on or off" bash -c "! $bin org sso-only --org 1 maybe 2>/dev/null"
check "a verified domain is removed" bash -c "$bin org domain remove --org 1 example.com && [ -z \"\$($bin org domain list --org 1)\" ]"
check "member list shows the Owner" bash -c "$bin member list --org 1 | grep -q 'OW	owner@cli.example'"
check "set-role needs a member" bash -c "! $bin member set-role --org 1 --email boss@cli.example --role AN"
check "set-role refuses an unknown role" bash -c "! $bin member set-role --org 1 --email owner@cli.example --role XX"
check "the Owner cannot be re-roled from the CLI either" bash -c "! $bin member set-role --org 1 --email owner@cli.example --role AD"
check "a bad DATABASE_URL names the setting" bash -c "DATABASE_URL=mysql://x $bin migrate 2>&1 | grep -q DATABASE_URL"
check "a short secret names the setting" bash -c "ROSTER_SECRET_KEY=short $bin invite link --org 1 2>&1 | grep -q ROSTER_SECRET_KEY"
check "a bad bind address names the setting" bash -c "$bin serve --bind nowhere 2>&1 | grep -qi 'bind'"
check "a short metrics token names the setting" bash -c "! $bin serve --bind 127.0.0.1:0 --metrics-token short >$data/metrics.out 2>&1 && grep -q 'ROSTER_METRICS_TOKEN' $data/metrics.out"
check "a DNS server that is not an address names the setting" bash -c "! ROSTER_DNS_SERVER=dns.example $bin serve --bind 127.0.0.1:0 >$data/dns.out 2>&1 && grep -q 'ROSTER_DNS_SERVER' $data/dns.out"
check "another secret is refused for this database" bash -c "ROSTER_SECRET_KEY=another-secret-that-is-long-enough-000000 $bin invite link --org 1 2>&1 | grep -q 'different server secret'"

# Import from CSV: good rows land, refused rows are reported by line.
cat >"$data/people.csv" <<'CSV'
email,first_name,last_name,role,projects
ann@cli.example,Ann,Lee,AN,
not-an-email,Bad,Row,AN,
rex@cli.example,Rex,Ray,re,
ann@cli.example,Ann,Again,AN,
CSV
imported=$("$bin" member import --org 1 "$data/people.csv" 2>&1 || true)
check "import reports refused rows by line" bash -c "grep -q 'line 3: ' <<<\"\$1\" && grep -q 'line 5: ann@cli.example appears twice' <<<\"\$1\"" _ "$imported"
check "import lands the good rows" bash -c "grep -q 'imported 2 member(s), refused 2 row(s)' <<<\"\$1\"" _ "$imported"
check "imported members are listed with their roles" bash -c "$bin member list --org 1 | grep -q 'RE	rex@cli.example'"
check "import reports each committed batch" bash -c "grep -q '^committed lines 2-5$' <<<\"\$1\"" _ "$imported"
printf 'email,first_name,last_name,role\nzed@cli.example,Zed,One,AN\nyan@cli.example,Yan,Two,AN\nxia@cli.example,Xia,Three,AN\n' >"$data/more.csv"
resumed=$("$bin" member import --org 1 --batch-size 1 --from-line 3 "$data/more.csv" 2>&1)
check "--from-line resumes at that line, batch by batch" bash -c "grep -q '^committed lines 3-3$' <<<\"\$1\" && grep -q '^committed lines 4-4$' <<<\"\$1\" && grep -q 'imported 2 member(s)' <<<\"\$1\" && ! $bin member list --org 1 | grep -q zed@cli.example" _ "$resumed"
check "an all-or-nothing import with a bad row imports nothing" bash -c "! $bin member import --org 1 --all-or-nothing $data/people.csv && ! $bin member list --org 1 | grep -q 'Again'"
check "dev seed adds generated members through the import path" bash -c "$bin dev seed --org 2 --members 300 | grep -q 'imported 300 member(s)'"

# A server stops cleanly on SIGTERM.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" >"$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
check "the server answers health" curl -sf "http://127.0.0.1:$port/api/health"
check "the database and its -wal and -shm files are private (600) while serving" bash -c "for f in $data/roster.db $data/roster.db-wal $data/roster.db-shm; do [ \"\$(stat -c %a \$f)\" = 600 ] || exit 1; done"
link=$("$bin" invite link --org 1)
token=${link##*token=}
check "a person signs up through the link" curl -sf -H 'Content-Type: application/json' \
  -d '{"email":"pat@cli.example","password":"a long enough password"}' "http://127.0.0.1:$port/user/signup/?token=$token"
check "they are listed as Not Activated" bash -c "$bin member list --org 1 --role NO | grep -q 'pat@cli.example'"
check "set-role activates them" bash -c "$bin member set-role --org 1 --email pat@cli.example --role an | grep -q 'is now Annotator'"
check "member delete removes them" bash -c "$bin member delete --org 1 --email pat@cli.example | grep -q 'Deleted User'"
check "they are gone from the list" bash -c "! $bin member list --org 1 | grep -q 'pat@cli.example'"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
check "SIGTERM stops the server with status 0" test "$rc" -eq 0

# A role change survives SIGKILL once its response has been sent.
"$bin" serve --bind "127.0.0.1:$port" >>"$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
curl -sf -c "$data/jar" -H 'Content-Type: application/json' \
  -d '{"email":"boss@cli.example","password":"a long enough password"}' "http://127.0.0.1:$port/user/login" >/dev/null
key=$(curl -sf -b "$data/jar" "http://127.0.0.1:$port/api/current-user/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
seeded=$("$bin" member list --org 2 | awk -F'\t' '$3=="member00000000@seed.example.com"{print $1}')
status=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Token $key" -H 'Content-Type: application/json' \
  -d "{\"user_id\": $seeded, \"role\": \"RE\"}" "http://127.0.0.1:$port/api/organizations/2/memberships")
check "a role change is answered 200" test "$status" = 200
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
check "the role change survives SIGKILL of the server" bash -c "$bin member list --org 2 --role RE | grep -q 'member00000000@seed.example.com'"

# Backup while serving; a restore is refused while a server runs and replaces the database,
# whole, once none does.
"$bin" serve --bind "127.0.0.1:$port" >>"$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
check "a backup is written while the server serves" bash -c "$bin backup $data/first.backup | grep -q 'wrote a backup of the SQLite database'"
check "the backup is private (600)" bash -c "[ \"\$(stat -c %a $data/first.backup)\" = 600 ]"
check "a backup never overwrites another" bash -c "! $bin backup $data/first.backup 2>/dev/null"
"$bin" member set-role --org 2 --email member00000001@seed.example.com --role MA >/dev/null
check "a restore is refused while the server runs" bash -c "$bin restore $data/first.backup 2>&1 | grep -q 'in use'"
check "the refused restore changed nothing" bash -c "$bin member list --org 2 --role MA | grep -q 'member00000001@seed.example.com'"
kill -TERM "$pid"; wait "$pid" || true
check "a restore with another server secret is refused" bash -c "ROSTER_SECRET_KEY=another-secret-that-is-long-enough-000000 $bin restore $data/first.backup 2>&1 | grep -q 'different server secret'"
check "a file that is no backup is refused" bash -c "$bin restore $data/people.csv 2>&1 | grep -q 'not a roster backup'"
check "a restore replaces the database once no server runs" bash -c "$bin restore $data/first.backup | grep -q 'restored'"
check "the change made after the backup is gone" bash -c "! $bin member list --org 2 --role MA | grep -q 'member00000001@seed.example.com'"
check "what was there before the backup is back" bash -c "$bin member list --org 2 --role RE | grep -q 'member00000000@seed.example.com'"
"$bin" serve --bind "127.0.0.1:$port" >>"$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
check "the server starts on the restored database" curl -sf "http://127.0.0.1:$port/api/health"
kill -TERM "$pid"; wait "$pid" || true

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
