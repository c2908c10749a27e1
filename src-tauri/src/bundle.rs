//! Whether the app runs from a macOS app bundle, and the bundle's id: what desktop
//! notifications are sent as on macOS (`sentinel_engine::notify::set_application`). The
//! decision is plain path and plist reading, tested on every platform; only the call is macOS's.

use std::path::Path;

/// The `.app` an executable runs from: `X.app` when the executable is
/// `X.app/Contents/MacOS/<name>`.
pub fn app_bundle(exe: &Path) -> Option<&Path> {
    let macos = exe.parent()?;
    let contents = macos.parent()?;
    let bundle = contents.parent()?;
    let is_bundle = macos.file_name()? == "MacOS"
        && contents.file_name()? == "Contents"
        && bundle.extension()? == "app";
    is_bundle.then_some(bundle)
}

/// The bundle's `CFBundleIdentifier`, from its `Contents/Info.plist`.
pub fn bundle_identifier(bundle: &Path) -> Option<String> {
    let info = plist::Value::from_file(bundle.join("Contents/Info.plist")).ok()?;
    let id = info
        .as_dictionary()?
        .get("CFBundleIdentifier")?
        .as_string()?
        .trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// The application id desktop notifications go out as: the bundle's, when `exe` runs from
/// one; none otherwise (macOS then sends no desktop notifications rather than asking the user
/// which application sends them).
pub fn notification_app_id(exe: &Path) -> Option<String> {
    bundle_identifier(app_bundle(exe)?)
}

/// macOS, once at start: names the application notifications are sent as, when the app runs
/// from a bundle.
#[cfg(target_os = "macos")]
pub fn name_notifications() {
    let exe = match std::env::current_exe().and_then(std::fs::canonicalize) {
        Ok(exe) => exe,
        Err(err) => {
            tracing::warn!(
                "cannot find this program's path ({err}): desktop notifications are off"
            );
            return;
        }
    };
    let Some(id) = notification_app_id(&exe) else {
        tracing::info!(
            exe = %exe.display(),
            "not running from an app bundle: desktop notifications are off"
        );
        return;
    };
    match sentinel_engine::notify::set_application(&id) {
        Ok(()) => tracing::debug!(bundle = %id, "desktop notifications are sent as this bundle"),
        Err(err) => tracing::warn!(bundle = %id, "desktop notifications: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_bundle(dir: &Path, info: &str) -> std::path::PathBuf {
        let bundle = dir.join("SentinelZero.app");
        std::fs::create_dir_all(bundle.join("Contents/MacOS")).unwrap();
        std::fs::write(bundle.join("Contents/Info.plist"), info).unwrap();
        bundle
    }

    fn info_plist(id: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CFBundleExecutable</key><string>sentinelzero</string>
<key>CFBundleIdentifier</key><string>{id}</string>
<key>LSUIElement</key><true/>
</dict></plist>"#
        )
    }

    #[test]
    fn only_an_executable_in_contents_macos_of_a_dot_app_is_in_a_bundle() {
        let inside = Path::new("/Applications/SentinelZero.app/Contents/MacOS/sentinelzero");
        assert_eq!(
            app_bundle(inside),
            Some(Path::new("/Applications/SentinelZero.app"))
        );
        let translocated = Path::new(
            "/private/var/folders/x/T/AppTranslocation/0A1B/d/SentinelZero.app/Contents/MacOS/sentinelzero",
        );
        assert!(app_bundle(translocated).is_some());
        for outside in [
            "/work/target/debug/sentinelzero",
            "/usr/local/bin/sentinel",
            "/Applications/SentinelZero.app/Contents/Resources/sentinelzero",
            "/Applications/SentinelZero/Contents/MacOS/sentinelzero",
            "/Applications/SentinelZero.app/MacOS/sentinelzero",
            "Contents/MacOS/sentinelzero",
            "sentinelzero",
            "/",
        ] {
            assert_eq!(app_bundle(Path::new(outside)), None, "{outside}");
        }
    }

    #[test]
    fn the_bundle_id_comes_from_the_bundles_info_plist() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = write_bundle(dir.path(), &info_plist("dev.sentinelzero.app"));
        let exe = bundle.join("Contents/MacOS/sentinelzero");
        assert_eq!(
            notification_app_id(&exe).as_deref(),
            Some("dev.sentinelzero.app")
        );
        // Not in a bundle: no id, whatever lies around.
        assert_eq!(notification_app_id(&dir.path().join("sentinelzero")), None);
    }

    #[test]
    fn a_bundle_without_a_usable_id_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let exe = |bundle: &Path| bundle.join("Contents/MacOS/sentinelzero");
        let blank = write_bundle(dir.path(), &info_plist("  "));
        assert_eq!(notification_app_id(&exe(&blank)), None);
        let broken = write_bundle(dir.path(), "not a plist");
        assert_eq!(notification_app_id(&exe(&broken)), None);
        std::fs::remove_file(broken.join("Contents/Info.plist")).unwrap();
        assert_eq!(notification_app_id(&exe(&broken)), None);
    }
}
