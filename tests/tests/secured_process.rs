//! Tokens as an operator uses them: a real `test-lab` process with `--tokens-file` (reloaded on
//! SIGHUP), `LABTHINGS_TOKEN`, `gen-token`, a tokens file that can't be read, and logs that
//! never show a token.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};

const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");

fn scratch(name: &str) -> PathBuf {
    let folder =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// A running `test-lab` on a free port; killed when dropped.
struct Lab {
    child: Child,
    addr: SocketAddr,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Lab {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BINARY);
        command
            // Out of the source tree: the demo config keeps settings and ids in `./settings`.
            .current_dir(env!("CARGO_TARGET_TMPDIR"))
            .args(args)
            .args(["--port", "0"])
            .envs(env.iter().copied())
            .env_remove("RUST_LOG");
        let (child, addr, stderr) = support::spawn_server(command);
        Self {
            child,
            addr,
            stderr: Some(stderr),
        }
    }

    async fn status(&self, path: &str, token: Option<&str>) -> StatusCode {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .iter()
            .map(|value| ("authorization", value.as_str()))
            .collect();
        support::request(self.addr, Method::GET, path, &headers, None)
            .await
            .status
    }

    fn signal(&self, name: &str) {
        support::signal(&self.child, name);
    }

    /// SIGTERM, then wait for a clean exit; everything it logged.
    fn stop(mut self) -> String {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit {status}");
                break;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll until `path` with `token` answers `expected` (at most 5 s).
async fn until(lab: &Lab, token: &str, expected: StatusCode) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while lab.status("/things/", Some(token)).await != expected {
        assert!(Instant::now() < deadline, "never got {expected}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_tokens_file_and_a_bad_file_keeps_the_old_tokens() {
    let folder = scratch("sighup");
    let file = folder.join("tokens");
    let (first, second) = ("tok-first-7f3a9c", "tok-second-b41e02");
    std::fs::write(&file, format!("# the lab\n{first}\n")).unwrap();
    let lab = Lab::start(&["--tokens-file", file.to_str().unwrap(), "--debug"], &[]);
    assert_eq!(lab.status("/things/", None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(lab.status("/things/", Some(first)).await, StatusCode::OK);
    assert_eq!(
        lab.status("/things/", Some(second)).await,
        StatusCode::UNAUTHORIZED
    );
    // A token in the query must not reach the log either.
    assert_eq!(
        lab.status(&format!("/counter/gain?access_token={first}"), None)
            .await,
        StatusCode::OK
    );

    std::fs::write(&file, format!("{second}\n")).unwrap();
    lab.signal("HUP");
    until(&lab, second, StatusCode::OK).await;
    assert_eq!(
        lab.status("/things/", Some(first)).await,
        StatusCode::UNAUTHORIZED
    );

    std::fs::write(&file, "sha256:not-hex\n").unwrap();
    lab.signal("HUP");
    // Signals coalesce: give this reload time to read the bad file before it disappears.
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::remove_file(&file).unwrap();
    lab.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        lab.status("/things/", Some(second)).await,
        StatusCode::OK,
        "the server is still up and the old tokens still work"
    );

    let log = lab.stop();
    assert!(log.contains("tokens file reloaded"), "{log}");
    assert!(
        log.contains("line 1: `sha256:` must be followed by 64 hexadecimal digits"),
        "{log}"
    );
    assert!(log.contains("could not read the tokens file"), "{log}");
    assert!(log.contains("the previous tokens stay in force"), "{log}");
    assert!(!log.contains(first) && !log.contains(second), "{log}");
    let _ = std::fs::remove_dir_all(folder);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_from_the_environment_secures_the_server() {
    let token = "tok-env-5c0ffee";
    let lab = Lab::start(&["--debug"], &[("LABTHINGS_TOKEN", token)]);
    assert_eq!(
        lab.status("/counter/", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(lab.status("/counter/", Some(token)).await, StatusCode::OK);
    let log = lab.stop();
    assert!(!log.contains(token), "{log}");

    let folder = scratch("env-file");
    let file = folder.join("tokens");
    std::fs::write(&file, "tok-env-file\n").unwrap();
    let lab = Lab::start(&[], &[("LABTHINGS_TOKENS_FILE", file.to_str().unwrap())]);
    assert_eq!(
        lab.status("/counter/", Some("tok-env-file")).await,
        StatusCode::OK
    );
    assert_eq!(
        lab.status("/counter/", None).await,
        StatusCode::UNAUTHORIZED
    );
    lab.stop();
    let _ = std::fs::remove_dir_all(folder);
}

#[test]
fn an_unreadable_tokens_file_stops_start_up() {
    let output = Command::new(BINARY)
        .args(["--tokens-file", "/nonexistent/tokens", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not read the tokens file /nonexistent/tokens"),
        "{stderr}"
    );
}

#[test]
fn gen_token_prints_a_fresh_url_safe_token() {
    let run = || {
        let output = Command::new(BINARY).arg("gen-token").output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let (a, b) = (run(), run());
    assert_ne!(a, b);
    let token = a.strip_suffix('\n').expect("one line");
    assert_eq!(token.len(), 43, "32 bytes, base64 without padding");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
}
