#!/bin/sh
# pgtend package: after install or upgrade (deb postinst, rpm %post).
# The timers stay as they were: disabled on a first install (enable them
# with `systemctl enable --now pgtend-weekly.timer pgtend-monthly.timer`),
# enabled if the operator enabled them. systemd only has to see the units.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
