#!/bin/bash
# Dockside .deb: after install (package.json build.deb.afterInstall). electron-builder fills in the
# dollar-brace macros (executable, sanitizedProductName) when it builds the package, and refuses any
# other, so this script writes its own variables as $NAME, never with braces.
#
# Besides what electron-builder's own after-install does (command link, chrome-sandbox, desktop
# database, AppArmor profile; this script replaces it, so those steps are repeated here), it installs
# the udev rule for USB barcode scanners and the "Dockside (kiosk)" menu entry.
#
# DOCKSIDE_DESTDIR: a staging root to install into instead of / (tests, image builders). Then, as
# in a chroot, nothing is done to the running system (no udevadm, no update-alternatives, no AppArmor).

ROOT="$DOCKSIDE_DESTDIR"
APP_DIR='/opt/${sanitizedProductName}'
EXE='${executable}'
LIVE=yes
if [ -n "$ROOT" ] || { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
  LIVE=no
fi

# The command on the PATH.
if [ "$LIVE" = yes ] && type update-alternatives >/dev/null 2>&1; then
  if [ -L "/usr/bin/$EXE" ] && [ -e "/usr/bin/$EXE" ] && [ "$(readlink "/usr/bin/$EXE")" != "/etc/alternatives/$EXE" ]; then
    rm -f "/usr/bin/$EXE"
  fi
  update-alternatives --install "/usr/bin/$EXE" "$EXE" "$APP_DIR/$EXE" 100 || ln -sf "$APP_DIR/$EXE" "/usr/bin/$EXE"
else
  mkdir -p "$ROOT/usr/bin"
  ln -sf "$APP_DIR/$EXE" "$ROOT/usr/bin/$EXE"
fi

# SUID chrome-sandbox only where user namespaces do not work.
if [ "$LIVE" = yes ] && ! { [[ -L /proc/self/ns/user ]] && unshare --user true; }; then
  chmod 4755 "$ROOT$APP_DIR/chrome-sandbox" 2>/dev/null || true
else
  chmod 0755 "$ROOT$APP_DIR/chrome-sandbox" 2>/dev/null || true
fi

# USB barcode scanners: the signed-in person at the station may read them (hidraw, uaccess; see the rule file).
install -D -m 0644 "$ROOT$APP_DIR/resources/linux/70-dockside-scanners.rules" "$ROOT/etc/udev/rules.d/70-dockside-scanners.rules"
if [ "$LIVE" = yes ] && type udevadm >/dev/null 2>&1; then
  udevadm control --reload-rules || true
  # Scanners plugged in before the install get the rule now, not at the next plug.
  udevadm trigger --subsystem-match=hidraw --action=change || true
fi

# "Dockside (kiosk)": the app full screen with no way out but signing out, for dock-door PCs.
# IT copies it to /etc/xdg/autostart (or a kiosk user's ~/.config/autostart) to start it at sign-in.
mkdir -p "$ROOT/usr/share/applications"
cat >"$ROOT/usr/share/applications/dockside-kiosk.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Dockside (kiosk)
Comment=Dockside full screen for a dock-door station
Exec="$APP_DIR/$EXE" --kiosk
Icon=$EXE
Terminal=false
Categories=Office;
StartupWMClass=${productFilename}
DESKTOP
chmod 0644 "$ROOT/usr/share/applications/dockside-kiosk.desktop"

if [ "$LIVE" = yes ]; then
  if hash update-mime-database 2>/dev/null; then update-mime-database /usr/share/mime || true; fi
  if hash update-desktop-database 2>/dev/null; then update-desktop-database /usr/share/applications || true; fi
fi

# AppArmor profile (Ubuntu 24.04 and later), as electron-builder's own script installs it.
if [ "$LIVE" = yes ] && apparmor_status --enabled >/dev/null 2>&1; then
  APPARMOR_PROFILE_SOURCE="$APP_DIR/resources/apparmor-profile"
  APPARMOR_PROFILE_TARGET="/etc/apparmor.d/$EXE"
  if apparmor_parser --skip-kernel-load --debug "$APPARMOR_PROFILE_SOURCE" >/dev/null 2>&1; then
    cp -f "$APPARMOR_PROFILE_SOURCE" "$APPARMOR_PROFILE_TARGET"
    if hash apparmor_parser 2>/dev/null; then
      apparmor_parser --replace --write-cache --skip-read-cache "$APPARMOR_PROFILE_TARGET" || true
    fi
  else
    echo "Skipping the AppArmor profile: this AppArmor does not support it"
  fi
fi

exit 0
