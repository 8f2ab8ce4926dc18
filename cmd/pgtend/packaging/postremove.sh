#!/bin/sh
# pgtend package: after removal or upgrade (deb postrm, rpm %postun).
# /etc/pgtend/pgtend.toml and pgtend.env are configuration: removal keeps
# them (deb: until `dpkg --purge pgtend` / `apt purge pgtend`; rpm keeps an
# edited one as .rpmsave).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
