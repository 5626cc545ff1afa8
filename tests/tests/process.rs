//! The server as an operator runs it: a real `test-lab` process, its command line, its exit
//! codes, its settings files across restarts and crashes, and its signals.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_test-lab");

/// A fresh, empty folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    let folder =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

fn config(settings: &Path, things: Value) -> String {
    json!({"things": things, "settings_folder": settings}).to_string()
}

/// A running `test-lab` on a free port.
struct Lab {
    child: Child,
    addr: SocketAddr,
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// Wait at most `limit` for `child` to exit; `None` (and the child killed) if it didn't.
fn exit_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A child process that is killed if the test panics before it exits.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Lab {
    fn start(args: &[&str]) -> Self {
        let mut command = Command::new(BINARY);
        command.args(args).args(["--port", "0"]);
        let (child, addr, stderr) = support::spawn_server(command);
        Self {
            child,
            addr,
            stderr: Some(stderr),
        }
    }

    async fn request(&self, method: Method, path: &str, body: Option<&str>) -> support::Reply {
        support::request(
            self.addr,
            method,
            path,
            &[],
            body.map(|b| b.to_owned().into()),
        )
        .await
    }

    fn signal(&self, name: &str) {
        support::signal(&self.child, name);
    }

    /// Wait (at most 10 s) for the process to exit; its status and everything it logged.
    fn wait(mut self) -> (ExitStatus, String) {
        match exit_within(&mut self.child, Duration::from_secs(10)) {
            Some(status) => (status, self.log()),
            None => panic!("the server did not exit: {}", self.log()),
        }
    }

    /// Everything the process wrote to stderr (once it has exited).
    fn log(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }

    /// SIGKILL, as a crash or power cut would.
    fn kill(self) {
        drop(self);
    }
}

/// Run `test-lab` expecting it to fail at once; its exit code and stderr.
fn run_failing(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(BINARY)
        .args(args)
        .args(["--port", "0"])
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_survive_a_restart() {
    let folder = scratch("restart");
    let config = config(
        &folder,
        json!({"counter": "Counter", "camera": "MockCamera"}),
    );
    let lab = Lab::start(&["-j", &config]);
    assert_eq!(
        lab.request(Method::PUT, "/counter/gain", Some("2.5"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        lab.request(Method::PUT, "/camera/exposure_ms", Some("42"))
            .await
            .status,
        StatusCode::CREATED
    );
    lab.signal("TERM");
    let (status, _) = lab.wait();
    assert!(status.success());

    let saved = std::fs::read_to_string(folder.join("counter/Settings-Counter.json")).unwrap();
    assert_eq!(saved, "{\n    \"gain\": 2.5\n}\n", "one object, indented 4");
    let lab = Lab::start(&["-j", &config]);
    assert_eq!(
        lab.request(Method::GET, "/counter/gain", None).await.json(),
        2.5
    );
    assert_eq!(
        lab.request(Method::GET, "/camera/exposure_ms", None)
            .await
            .json(),
        42.0
    );
    lab.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_files_are_kept_aside_and_bad_values_keep_defaults() {
    let folder = scratch("corrupt");
    std::fs::create_dir_all(folder.join("counter")).unwrap();
    std::fs::create_dir_all(folder.join("camera")).unwrap();
    std::fs::write(
        folder.join("counter/Settings-Counter.json"),
        "{\"gain\": 3.0, ",
    )
    .unwrap();
    std::fs::write(
        folder.join("camera/Settings-MockCamera.json"),
        r#"{"exposure_ms": -5, "analogue_gain": 4.0}"#,
    )
    .unwrap();
    let config = config(
        &folder,
        json!({"counter": "Counter", "camera": "MockCamera"}),
    );
    let lab = Lab::start(&["-j", &config]);
    assert_eq!(
        lab.request(Method::GET, "/counter/gain", None).await.json(),
        1.0
    );
    assert_eq!(
        lab.request(Method::GET, "/camera/exposure_ms", None)
            .await
            .json(),
        10.0,
        "the bad value keeps its default"
    );
    assert_eq!(
        lab.request(Method::GET, "/camera/analogue_gain", None)
            .await
            .json(),
        4.0,
        "the good one loads"
    );
    lab.signal("TERM");
    let (_, log) = lab.wait();
    assert!(
        log.contains("exposure_ms"),
        "the warning names the key: {log}"
    );

    let kept: Vec<String> = std::fs::read_dir(folder.join("counter"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("Settings-Counter.json.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let content = std::fs::read_to_string(folder.join("counter").join(&kept[0])).unwrap();
    assert_eq!(content, "{\"gain\": 3.0, ", "kept exactly as it was");
}

/// Rounds of the kill -9 campaign: `LABTHINGS_CRASH_ROUNDS`, default 100 (bench/soak runs more).
fn crash_rounds() -> u32 {
    std::env::var("LABTHINGS_CRASH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_setting_writes_never_leaves_a_torn_file() {
    let folder = scratch("kill9");
    let config = config(&folder, json!({"counter": "Counter"}));
    let file = folder.join("counter/Settings-Counter.json");
    // Kill moments spread over the burst by a seeded generator (printed on failure).
    let mut seed: u64 = 0x6b69_6c6c_3921;
    let rounds = crash_rounds();
    let mut last_saved = None;
    for round in 0..rounds {
        let lab = Lab::start(&["-j", &config]);
        let addr = lab.addr;
        let writer = tokio::spawn(async move {
            for i in 0..200_u32 {
                let body = format!("{}.5", round * 1000 + i);
                let stream = tokio::net::TcpStream::connect(addr).await;
                if stream.is_err() {
                    return;
                }
                drop(stream);
                let _ = tokio::time::timeout(
                    Duration::from_millis(500),
                    support::request(addr, Method::PUT, "/counter/gain", &[], Some(body.into())),
                )
                .await;
            }
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(20 + seed % 150)).await;
        lab.kill();
        writer.abort();
        let _ = writer.await;
        if let Ok(text) = std::fs::read_to_string(&file) {
            let saved: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!("round {round} (seed state {seed:#x}): torn file ({e}): {text:?}")
            });
            // Every value written is `<round * 1000 + i>.5`: the file holds one of them.
            let gain = saved["gain"].as_f64().unwrap_or(f64::NAN);
            assert!(
                gain.fract() == 0.5 && gain < f64::from((round + 1) * 1000),
                "round {round}: {saved} is no value that was written"
            );
            last_saved = Some(gain);
        }
    }
    let saved = last_saved.expect("some writes reached disk");
    // A restart loads what the file holds.
    let lab = Lab::start(&["-j", &config]);
    let loaded = lab.request(Method::GET, "/counter/gain", None).await.json();
    assert_eq!(loaded, json!(saved), "after {rounds} kill -9 rounds");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_256_running_actions_cancels_them_all_and_exits_zero() {
    let folder = scratch("sigterm-256");
    let lab = Lab::start(&["-j", &config(&folder, json!({"counter": "Counter"}))]);
    let posts = (0..256).map(|_| {
        support::request(
            lab.addr,
            Method::POST,
            "/counter/slow",
            &[("content-type", "application/json")],
            Some(bytes::Bytes::from_static(
                br#"{"duration": 60, "step": 0.5}"#,
            )),
        )
    });
    let ids: Vec<String> = futures_util::future::join_all(posts)
        .await
        .into_iter()
        .map(|reply| reply.json()["id"].as_str().unwrap().to_owned())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = lab
            .request(Method::GET, "/action_invocations", None)
            .await
            .json();
        let running = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|summary| summary["status"] == "running")
            .count();
        if running == 256 {
            break;
        }
        assert!(Instant::now() < deadline, "only {running} of 256 running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = Instant::now();
    lab.signal("TERM");
    let (status, log) = lab.wait();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "shutdown took {took:?} (grace 5 s)"
    );
    let cancelled = log
        .lines()
        .filter(|line| line.contains("stopped by shutdown"))
        .filter(|line| line.contains("status=\"cancelled\""))
        .filter(|line| ids.iter().any(|id| line.contains(id.as_str())))
        .count();
    assert_eq!(cancelled, 256, "every action ended cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_cancels_a_running_action_and_exits_zero() {
    let folder = scratch("sigterm");
    let lab = Lab::start(&["-j", &config(&folder, json!({"counter": "Counter"}))]);
    let started = lab
        .request(
            Method::POST,
            "/counter/slow",
            Some(r#"{"duration": 60, "step": 30}"#),
        )
        .await
        .json();
    let id = started["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sent = Instant::now();
    lab.signal("TERM");
    let (status, log) = lab.wait();
    assert_eq!(status.code(), Some(0), "{status:?}: {log}");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "the 30 s step was cancelled"
    );
    let line = log
        .lines()
        .find(|line| line.contains("stopped by shutdown") && line.contains(&id))
        .unwrap_or_else(|| panic!("no shutdown line for {id}: {log}"));
    assert!(line.contains("status=\"cancelled\""), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_inline_action_is_warned_about_once() {
    let folder = scratch("inline");
    let lab = Lab::start(&["-j", &config(&folder, json!({"lab": "Lab"}))]);
    for ms in ["0", "20", "20"] {
        let done = lab
            .request(
                Method::POST,
                "/lab/dawdle_inline",
                Some(&format!(r#"{{"ms": {ms}}}"#)),
            )
            .await
            .json();
        assert_eq!(done["status"], "completed", "{done}");
    }
    lab.signal("TERM");
    let (status, log) = lab.wait();
    assert_eq!(status.code(), Some(0), "{status:?}: {log}");
    let warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("an inline action took longer than 5 ms"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("dawdle_inline"), "{}", warnings[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_errors_exit_3_with_one_message() {
    let folder = scratch("config-errors");
    let missing = folder.join("absent.json");
    let cases: [(Vec<String>, &str); 6] = [
        (
            vec!["-j".into(), r#"{"things": {"x": "Nope"}}"#.into()],
            "unknown type `Nope`; this server knows: Counter, MockStage, MockCamera",
        ),
        (vec!["-j".into(), "{".into()], "not valid JSON"),
        (
            vec!["-j".into(), "{}".into(), "-c".into(), "x.json".into()],
            "either -c/--config or -j/--json",
        ),
        (
            vec!["-c".into(), missing.display().to_string()],
            "could not read the config file",
        ),
        (
            vec![
                "-j".into(),
                r#"{"things": {"camera": {"class": "MockCamera", "kwargs": {"widht": 3}}}}"#.into(),
            ],
            "unknown field `widht`",
        ),
        (
            vec!["-j".into(), r#"{"things": {"scope": "Microscope"}}"#.into()],
            "slot `stage` of Thing `scope`",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = run_failing(&args);
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fallback_serves_the_error_page_then_exits_3() {
    let mut child = KillOnDrop(
        Command::new(BINARY)
            .args([
                "-j",
                r#"{"things": {"x": "Nope"}}"#,
                "--fallback",
                "--port",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut addr = None;
    for _ in 0..5 {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        if let Some(url) = line.split("http://").nth(1) {
            addr = url.trim().trim_end_matches('/').parse::<SocketAddr>().ok();
            break;
        }
    }
    let addr = addr.expect("the fallback server says where it is");
    let flag = support::request(addr, Method::GET, "/labthings_fallback", &[], None).await;
    assert_eq!(flag.json(), json!(true));
    let page = support::request(addr, Method::GET, "/", &[], None).await;
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("unknown type `Nope`") && html.contains("&quot;things&quot;"),
        "{html}"
    );
    let elsewhere = support::request(addr, Method::GET, "/counter/", &[], None).await;
    assert_eq!(
        (elsewhere.status, elsewhere.header("location")),
        (StatusCode::TEMPORARY_REDIRECT, Some("/"))
    );
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = exit_within(&mut child.0, Duration::from_secs(10)).expect("exits on SIGTERM");
    assert_eq!(status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_records_are_captured_only_with_debug() {
    let folder = scratch("debug");
    let config = config(
        &folder,
        json!({"stage": "MockStage", "camera": "MockCamera"}),
    );
    for (flag, expect_debug) in [(None, false), (Some("--debug"), true)] {
        let mut args = vec!["-j", config.as_str()];
        args.extend(flag);
        let lab = Lab::start(&args);
        let focused = support::request(
            lab.addr,
            Method::POST,
            "/camera/autofocus",
            &[("prefer", "wait=10")],
            Some(r#"{"range": 20, "steps": 2}"#.into()),
        )
        .await
        .json();
        assert_eq!(focused["status"], "completed", "{focused}");
        let levels: Vec<&str> = focused["log"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["levelname"].as_str())
            .collect();
        assert_eq!(
            levels.contains(&"DEBUG"),
            expect_debug,
            "{flag:?}: {levels:?}"
        );
        assert!(levels.contains(&"INFO"));
        lab.kill();
    }
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn chatty_invocations_stay_within_the_memory_budget() {
    // The short soak (bench/soak runs the long one): 600 invocations logging 1,000 lines
    // each would keep ~90 MB of logs under the count cap alone; a 16 MiB budget keeps the
    // newest that fit and evicts the oldest finished.
    let folder = scratch("soak");
    let things = json!({"lab": "Lab"});
    // Memory alone: with a history, an evicted invocation would answer from it.
    let lab = Lab::start(&[
        "-j",
        &config(&folder, things),
        "--invocation-memory",
        "16MiB",
        "--history",
        "off",
    ]);
    let pid = lab.child.id();
    let baseline = rss_mib(pid);
    let (total, parallel) = (600, 8);
    let mut ids = Vec::new();
    let mut peak: f64 = 0.0;
    for batch in 0..total / parallel {
        let posts = (0..parallel).map(|_| {
            support::request(
                lab.addr,
                Method::POST,
                "/lab/chatter",
                &[("content-type", "application/json"), ("prefer", "wait=30")],
                Some(bytes::Bytes::from_static(br#"{"lines": 1000}"#)),
            )
        });
        for reply in futures_util::future::join_all(posts).await {
            assert_eq!(reply.status, StatusCode::CREATED);
            let invocation = reply.json();
            assert_eq!(invocation["status"], "completed", "{invocation}");
            ids.push(invocation["id"].as_str().unwrap().to_owned());
        }
        if batch % 10 == 0 {
            peak = peak.max(rss_mib(pid));
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // a budget check runs every second
    peak = peak.max(rss_mib(pid));
    let oldest = support::request(
        lab.addr,
        Method::GET,
        &format!("/action_invocations/{}", ids[0]),
        &[],
        None,
    )
    .await;
    assert_eq!(
        oldest.status,
        StatusCode::NOT_FOUND,
        "the oldest was evicted"
    );
    let newest = support::request(
        lab.addr,
        Method::GET,
        &format!("/action_invocations/{}", ids[total - 1]),
        &[],
        None,
    )
    .await;
    assert_eq!(newest.status, StatusCode::OK, "the newest is kept");
    assert_eq!(
        newest.json()["log"].as_array().unwrap().len(),
        1000,
        "its log is whole"
    );
    println!("soak: {total} chatty invocations, RSS {baseline:.1} -> peak {peak:.1} MiB");
    assert!(
        peak < baseline + 16.0 + 40.0,
        "RSS peaked at {peak:.1} MiB (started at {baseline:.1} MiB) with a 16 MiB budget"
    );
}

/// The highest RSS of process `pid` while it lives, sampled every 10 ms until the returned
/// flag is set; the thread returns it (MiB).
fn sample_peak_rss(
    pid: u32,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<f64>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let sampler = std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !flag.load(Ordering::Relaxed) {
            peak = peak.max(rss_mib(pid));
            std::thread::sleep(Duration::from_millis(10));
        }
        peak
    });
    (stop, sampler)
}

#[tokio::test(flavor = "multi_thread")]
async fn running_invocations_logs_count_towards_the_memory_budget() {
    // 3,000 POSTs without `Prefer: wait` from 20 clients: they queue at once and up to 256 run
    // together, each logging 1,000 lines (~150 kB). Those running logs can't be evicted, so
    // they must fit in the budget (finished records make way, then a running log keeps its
    // newest records) rather than add 256 × up to 256 KiB to it. At the default budget: the
    // allocator's arenas then hold the most freed memory (see runtime/free_memory.rs).
    const BUDGET_MIB: f64 = 64.0;
    let (clients, per_client) = (20, 150);
    let folder = scratch("running-logs");
    let lab = Lab::start(&[
        "-j",
        &config(&folder, json!({"lab": "Lab"})),
        "--history",
        "off",
    ]);
    let pid = lab.child.id();
    let baseline = rss_mib(pid);
    let (stop, sampler) = sample_peak_rss(pid);
    let addr = lab.addr;
    let client = |_| async move {
        let mut ids = Vec::new();
        for _ in 0..per_client {
            let reply = support::request(
                addr,
                Method::POST,
                "/lab/chatter",
                &[("content-type", "application/json")],
                Some(bytes::Bytes::from_static(br#"{"lines": 1000}"#)),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            ids.push(reply.json()["id"].as_str().unwrap().to_owned());
        }
        // Until each has finished (or, finished, was evicted to make room).
        for id in &ids {
            loop {
                let path = format!("/action_invocations/{id}");
                let reply = support::request(addr, Method::GET, &path, &[], None).await;
                if reply.status == StatusCode::NOT_FOUND
                    || !matches!(reply.json()["status"].as_str(), Some("pending" | "running"))
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let all = futures_util::future::join_all((0..clients).map(client));
    tokio::time::timeout(Duration::from_secs(180), all)
        .await
        .expect("3,000 chatty invocations ran within 3 minutes");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    println!(
        "running logs: {} chatty invocations, RSS {baseline:.1} -> peak {peak:.1} MiB \
         (budget {BUDGET_MIB} MiB)",
        clients * per_client
    );
    // 40 MB, as MiB.
    assert!(
        peak < baseline + BUDGET_MIB + 38.1,
        "RSS peaked at {peak:.1} MiB (started at {baseline:.1} MiB) with a {BUDGET_MIB} MiB budget"
    );
}

/// A relative settings folder is relative to the working directory, which differs between a
/// terminal, a service and an IDE: the server says where it really is, as an absolute path.
#[test]
fn the_absolute_settings_folder_is_printed_at_start_up() {
    let folder = scratch("relative-settings");
    let mut child = KillOnDrop(
        Command::new(BINARY)
            .current_dir(&folder)
            .args(["-j", &config(Path::new("lab-settings"), json!({}))])
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Lines arrive over a channel, so that a server that never prints the line fails the test
    // within 10 s instead of leaving it reading a pipe that stays open.
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) if line.starts_with("Settings are saved in ") => break line,
            Ok(_) => continue,
            Err(_) => panic!("no line naming the settings folder within 10 s"),
        }
    };
    let expected = folder.canonicalize().unwrap().join("lab-settings");
    assert_eq!(
        line,
        format!("Settings are saved in {}", expected.display())
    );
}

/// A binary's `--version` and `--help` describe it (`cli::main_with(about!(), …)`), not
/// `labthings-server`.
#[test]
fn version_and_help_describe_the_binary() {
    let run = |flag: &str| {
        let output = Command::new(BINARY).arg(flag).output().unwrap();
        assert!(output.status.success(), "{flag}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(
        run("--version"),
        format!("labthings-tests {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        run("--help").starts_with(&format!("{}\n", env!("CARGO_PKG_DESCRIPTION"))),
        "{}",
        run("--help")
    );
}
