//! Links `sentineld` with the code its idle loop runs placed together (build/layout.rs).

#[path = "build/layout.rs"]
mod layout;

fn main() {
    println!("cargo:rerun-if-changed=sentineld.order");
    println!("cargo:rerun-if-changed=build/layout.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let target = var("TARGET").to_uppercase().replace('-', "_");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_{target}_LINKER");
    let rustc_version = std::process::Command::new(var("RUSTC"))
        .arg("-vV")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let (target_os, target_arch, target_env) = (
        var("CARGO_CFG_TARGET_OS"),
        var("CARGO_CFG_TARGET_ARCH"),
        var("CARGO_CFG_TARGET_ENV"),
    );
    let (profile, rustflags) = (var("PROFILE"), var("CARGO_ENCODED_RUSTFLAGS"));
    let build = layout::Build {
        target_os: &target_os,
        target_arch: &target_arch,
        target_env: &target_env,
        profile: &profile,
        rustc_version: &rustc_version,
        rustflags: &rustflags,
        linker_override: std::env::var_os(format!("CARGO_TARGET_{target}_LINKER")).is_some(),
    };
    let order_file = format!("{}/sentineld.order", var("CARGO_MANIFEST_DIR"));
    for arg in layout::order_args(&build, &order_file) {
        println!("cargo:rustc-link-arg-bin=sentineld={arg}");
    }
}
