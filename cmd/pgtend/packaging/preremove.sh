#!/bin/sh
# pgtend package: before removal (deb prerm, rpm %preun). On removal, not on
# upgrade, stop and disable the timers so no enablement symlink is left
# behind pointing at a unit that is gone. A run in progress is left to
# finish: stopping it mid-VACUUM gains nothing.
case "$1" in
remove | purge | 0)
	if command -v systemctl >/dev/null 2>&1; then
		systemctl --no-reload disable pgtend-weekly.timer pgtend-monthly.timer >/dev/null 2>&1 || :
		if [ -d /run/systemd/system ]; then
			systemctl stop pgtend-weekly.timer pgtend-monthly.timer >/dev/null 2>&1 || :
		fi
	fi
	;;
esac
exit 0
