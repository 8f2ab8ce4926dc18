#!/usr/bin/env bash
# Installs the .deb that `goreleaser release --snapshot --clean` left in DIST
# (default dist/) for this machine's architecture and checks it as an
# operator would: the stamped version, the manual page, the completions, the
# systemd units (installed disabled), the example policy; then that removing
# the package keeps an edited /etc/pgtend/pgtend.toml and disables the
# timers, and that purging removes it. The machine is left as found: the
# package is purged on every exit. Needs root, dpkg, man-db and
# bash-completion; refuses to run where pgtend is already installed.
#
#   sudo cmd/pgtend/packaging/check-deb.sh [DIST]
set -euo pipefail

dist=${1:-dist}
fail() {
	echo "check-deb: FAIL: $*" >&2
	exit 1
}
ok() { echo "check-deb: ok: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
if dpkg-query -W pgtend >/dev/null 2>&1 || [ -e /usr/bin/pgtend ] || [ -e /etc/pgtend ]; then
	fail "pgtend is already installed here (or /usr/bin/pgtend, /etc/pgtend exist): not touching it"
fi
arch=$(dpkg --print-architecture)
debs=("$dist"/pgtend_*_"$arch".deb)
[ -f "${debs[0]}" ] && [ ${#debs[@]} = 1 ] || fail "want one $dist/pgtend_*_$arch.deb, found: ${debs[*]}"
deb=${debs[0]}
meta=$(cat "$dist/metadata.json")
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$meta")
commit=$(sed -n 's/.*"commit":"\([^"]*\)".*/\1/p' <<<"$meta")
[ -n "$version" ] && [ -n "$commit" ] || fail "no version or commit in $dist/metadata.json: $meta"
if head=$(git rev-parse HEAD 2>/dev/null); then
	[ "$commit" = "$head" ] || fail "goreleaser stamped commit $commit, the checkout is at $head (a git checkout without a remote gives \"none\")"
fi

trap 'dpkg --purge pgtend >/dev/null 2>&1 || :' EXIT
echo "--- dpkg -i $deb"
dpkg -i "$deb" >/dev/null

# The version goreleaser stamped: version, short commit, build date.
got=$(pgtend version)
want="pgtend $version (commit ${commit:0:7}, built "
[[ $got == "$want"????-??-??T??:??:??Z")" ]] || fail "pgtend version: got \"$got\", want \"${want}<RFC3339 date>)\""
ok "$got"
[ "$(command -v pgtend)" = /usr/bin/pgtend ] || fail "pgtend is $(command -v pgtend), want /usr/bin/pgtend"

# The manual page, gzipped, found and rendered by man.
[ "$(man -w pgtend)" = /usr/share/man/man1/pgtend.1.gz ] || fail "man -w pgtend: $(man -w pgtend 2>&1)"
page=$(MANPAGER=cat MANWIDTH=80 man pgtend 2>&1)
grep -q '^PGTEND(1)' <<<"$page" && grep -q 'pgtend - keep a PostgreSQL' <<<"$page" || fail "man pgtend does not render the page:
$page"
ok "man pgtend"

# Completions: bash loads its file from bash-completion's directory, as a
# shell does on the first Tab; zsh and fish find theirs in the vendor dirs.
spec=$(bash -c 'source /usr/share/bash-completion/bash_completion && __load_completion pgtend && complete -p pgtend' 2>&1) ||
	fail "bash does not load pgtend's completion: $spec"
words=$(bash -c 'source /usr/share/bash-completion/bash_completion; __load_completion pgtend
	COMP_WORDS=(pgtend run we); COMP_CWORD=2; COMP_LINE="pgtend run we"; COMP_POINT=${#COMP_LINE}
	__start_pgtend pgtend we run 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"')
[ "$words" = weekly ] || fail "bash completes \"pgtend run we\" to \"$words\", want weekly"
for f in /usr/share/zsh/vendor-completions/_pgtend /usr/share/fish/vendor_completions.d/pgtend.fish; do
	[ -s "$f" ] || fail "missing $f"
done
ok "completions ($spec; pgtend run we<Tab> -> weekly; zsh, fish)"

# The systemd units: in place, valid, disabled.
units="pgtend-weekly.service pgtend-weekly.timer pgtend-monthly.service pgtend-monthly.timer"
for u in $units; do
	[ -f /usr/lib/systemd/system/$u ] || fail "missing /usr/lib/systemd/system/$u"
done
grep -qx 'OnCalendar=Sun \*-\*-\* 03:00:00' /usr/lib/systemd/system/pgtend-weekly.timer || fail "weekly timer is not Sundays"
grep -qx 'OnCalendar=Sat \*-\*-01..07 03:00:00' /usr/lib/systemd/system/pgtend-monthly.timer || fail "monthly timer is not the first Saturday"
grep -qx 'ExecStart=/usr/bin/pgtend run weekly --config /etc/pgtend/pgtend.toml $PGTEND_FLAGS' /usr/lib/systemd/system/pgtend-weekly.service || fail "weekly ExecStart"
grep -qx 'ExecStart=/usr/bin/pgtend run monthly --yes --config /etc/pgtend/pgtend.toml $PGTEND_FLAGS' /usr/lib/systemd/system/pgtend-monthly.service || fail "monthly ExecStart"
if command -v systemd-analyze >/dev/null 2>&1; then
	# Fails on an error; warnings about other units of the host are not ours.
	out=$(cd /usr/lib/systemd/system && systemd-analyze verify $units 2>&1) && ! grep -q pgtend <<<"$out" ||
		fail "systemd-analyze verify: $out"
	ok "systemd-analyze verify $units"
fi
if [ -d /run/systemd/system ]; then
	systemctl cat pgtend-weekly.timer pgtend-monthly.timer >/dev/null || fail "systemctl cat"
	ok "systemctl cat (systemd runs here)"
else
	echo "check-deb: systemd is not running here: units checked in place, not through systemctl cat"
fi
if command -v systemctl >/dev/null 2>&1; then
	for t in pgtend-weekly.timer pgtend-monthly.timer; do
		s=$(systemctl is-enabled $t 2>&1) || :
		[ "$s" = disabled ] || fail "$t is \"$s\" after install, want disabled"
	done
	ok "timers installed disabled"
fi

# The example policy: valid, a conffile; the environment file root's only.
pgtend config check /etc/pgtend/pgtend.toml >/dev/null || fail "pgtend config check /etc/pgtend/pgtend.toml"
[ "$(stat -c %a /etc/pgtend/pgtend.env)" = 600 ] || fail "/etc/pgtend/pgtend.env is mode $(stat -c %a /etc/pgtend/pgtend.env), want 600"
conffiles=$(dpkg-query -W -f='${Conffiles}' pgtend)
for f in /etc/pgtend/pgtend.toml /etc/pgtend/pgtend.env; do
	grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile: $conffiles"
done
ok "/etc/pgtend/pgtend.toml passes config check; pgtend.toml and pgtend.env are conffiles"

# The operator edits the policy and enables the timers; reinstalling keeps
# the edit; removing keeps it and disables the timers; purging removes it.
edit="# check-deb: the operator's edit"
echo "$edit" >>/etc/pgtend/pgtend.toml
if command -v systemctl >/dev/null 2>&1; then
	systemctl enable pgtend-weekly.timer pgtend-monthly.timer >/dev/null 2>&1 || fail "systemctl enable"
fi
dpkg -i "$deb" >/dev/null
[ "$(tail -n 1 /etc/pgtend/pgtend.toml)" = "$edit" ] || fail "reinstalling replaced the edited /etc/pgtend/pgtend.toml"
dpkg -r pgtend >/dev/null
[ ! -e /usr/bin/pgtend ] || fail "dpkg -r left /usr/bin/pgtend"
[ "$(tail -n 1 /etc/pgtend/pgtend.toml 2>/dev/null)" = "$edit" ] || fail "dpkg -r did not keep the edited /etc/pgtend/pgtend.toml"
if ls /etc/systemd/system/timers.target.wants/pgtend-* >/dev/null 2>&1; then
	fail "dpkg -r left the timers enabled: $(ls /etc/systemd/system/timers.target.wants/pgtend-*)"
fi
ok "reinstall and dpkg -r keep the edited /etc/pgtend/pgtend.toml; dpkg -r disables the timers"
dpkg --purge pgtend >/dev/null
[ ! -e /etc/pgtend ] || fail "dpkg --purge left /etc/pgtend"
ok "dpkg --purge removes /etc/pgtend"
