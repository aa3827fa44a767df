#!/bin/bash
# Dockside .deb: after remove (package.json build.deb.afterRemove). $1 is what dpkg is doing:
# "remove" or "purge" take away what after-install.tpl put outside /opt; "upgrade" (the old
# package's script during an update) keeps it, so scanners keep working across updates.
# Macros and DOCKSIDE_DESTDIR as in after-install.tpl.

ROOT="$DOCKSIDE_DESTDIR"
APP_DIR='/opt/${sanitizedProductName}'
EXE='${executable}'
LIVE=yes
if [ -n "$ROOT" ] || { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
  LIVE=no
fi

case "$1" in
  remove | purge)
    rm -f "$ROOT/etc/udev/rules.d/70-dockside-scanners.rules" "$ROOT/usr/share/applications/dockside-kiosk.desktop"
    if [ "$LIVE" = yes ] && type udevadm >/dev/null 2>&1; then
      udevadm control --reload-rules || true
    fi
    ;;
  *) ;;
esac

if [ "$LIVE" = yes ] && type update-alternatives >/dev/null 2>&1; then
  update-alternatives --remove "$EXE" "$APP_DIR/$EXE" || true
else
  rm -f "$ROOT/usr/bin/$EXE"
fi

APPARMOR_PROFILE_DEST="$ROOT/etc/apparmor.d/$EXE"
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
  if [ "$LIVE" = yes ] && apparmor_status --enabled >/dev/null 2>&1 && hash apparmor_parser 2>/dev/null; then
    apparmor_parser --remove "$APPARMOR_PROFILE_DEST" || true
  fi
  rm -f "$APPARMOR_PROFILE_DEST"
fi

exit 0
