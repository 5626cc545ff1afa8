//! What a test needs of the machine: whether it runs as root, and Debian packages installed
//! when missing. Its own file, so that a test outside this crate (the demo lab's, in
//! `examples/tests/`) can use the broker harness, which needs it, without the HTTP client.

/// Are the tests running as root (CI, the development machine)?
pub fn root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Install Debian `packages` a test needs (`apt-get`, through `sudo -n` when not root; an
/// `apt-get update` first if the plain install fails); panics if it can't.
pub fn apt_install(packages: &[&str]) {
    let apt = |args: &[&str]| {
        let mut command = if root() {
            std::process::Command::new("apt-get")
        } else {
            let mut sudo = std::process::Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut install = vec!["install", "-y", "-q"];
    install.extend_from_slice(packages);
    let installed = apt(&install) || (apt(&["update", "-q"]) && apt(&install));
    assert!(
        installed,
        "these tests need {packages:?}: `apt-get install` failed"
    );
}
