//! A throwaway PostgreSQL per test: installed with apt-get when missing, a cluster made with
//! `initdb` in a temporary folder and served by `pg_ctl` on a free loopback port, stopped (and
//! its files removed) when dropped, also when the test fails.
//!
//! `initdb` refuses to run as root: as root (CI, this machine) every PostgreSQL command runs as
//! the `postgres` account the Debian package creates (`runuser -u postgres --`), in a folder
//! given to it; as a normal user they run as that user.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Debian's PostgreSQL programs (`/usr/lib/postgresql/<version>/bin`, not on PATH), installed
/// once per test process when missing.
fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = find_bin() {
            return bin;
        }
        crate::support::apt_install(&["postgresql"]);
        find_bin().expect("initdb under /usr/lib/postgresql/*/bin after installing postgresql")
    })
}

fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// `psql`'s arguments to reach the cluster on `port` as `postgres`, quietly, stopping at the
/// first error.
fn psql_args(port: &str) -> [&str; 12] {
    [
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "-U",
        "postgres",
        "-d",
        "postgres",
    ]
}

fn root() -> bool {
    crate::support::root()
}

/// A running PostgreSQL cluster on `127.0.0.1:port`, trusting local connections.
pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
    running: bool,
}

impl Postgres {
    pub fn start() -> Self {
        let bin = bin();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lt-postgres-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        if root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown postgres {}", dir.display());
        }
        // PostgreSQL can't report a port it chose: take a free one and let it go.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let postgres = Self {
            port,
            dir,
            running: false,
        };
        let data = postgres.dir.join("data");
        postgres.run(
            &bin.join("initdb"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let mut postgres = postgres;
        postgres.resume();
        postgres
    }

    /// `postgres://postgres@127.0.0.1:port/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Run `sql` with `psql` (what a database administrator might do behind the servers'
    /// backs); panics if it fails.
    pub fn sql(&self, sql: &str) {
        let port = self.port.to_string();
        let mut args = psql_args(&port).to_vec();
        args.extend(["-c", sql]);
        self.run(&bin().join("psql"), &args);
    }

    /// Another session (a `psql` of its own) that has run `sql` inside an open transaction —
    /// a `LOCK TABLE …` it then holds — until [`Session::end`] commits it. Returns once `sql`
    /// has run (the lock is taken).
    pub fn session(&self, sql: &str) -> Session {
        let port = self.port.to_string();
        let mut child = self
            .command(&bin().join("psql"))
            .args(psql_args(&port))
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("psql runs");
        let mut stdin = child.stdin.take().expect("psql's stdin");
        // `\warn`: on stderr, which psql doesn't buffer (its stdout to a pipe it would).
        writeln!(stdin, "BEGIN;\n{sql};\n\\warn done").expect("psql takes the statements");
        let mut said = String::new();
        BufReader::new(child.stderr.take().expect("psql's stderr"))
            .read_line(&mut said)
            .expect("psql answers");
        assert_eq!(said.trim(), "done", "{sql} ran");
        Session {
            child,
            stdin: Some(stdin),
        }
    }

    /// `program`, as `postgres` when we are root.
    fn command(&self, program: &Path) -> Command {
        if root() {
            let mut runuser = Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            Command::new(program)
        }
    }

    /// Run a PostgreSQL program (as `postgres` when we are root); panics if it fails.
    fn run(&self, program: &Path, args: &[&str]) {
        let mut command = self.command(program);
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|error| panic!("{} runs: {error}", program.display()));
        assert!(
            output.status.success(),
            "{} {args:?} failed: {}{}\n{}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.join("data");
        let mut all = vec!["-D", data.to_str().expect("a UTF-8 temp path"), "-w"];
        all.extend_from_slice(args);
        self.run(&bin().join("pg_ctl"), &all);
    }

    /// Start (again) on the same port; returns once it accepts connections (`pg_ctl -w`).
    pub fn resume(&mut self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        self.pg_ctl(&["-l", &log.to_string_lossy(), "-o", &options, "start"]);
        self.running = true;
    }

    /// Stop it (`-m fast`: sessions are ended, open transactions rolled back).
    pub fn stop(&mut self) {
        if std::mem::take(&mut self.running) {
            self.pg_ctl(&["-m", "fast", "stop"]);
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            // Not `stop()`: no panic inside a drop that may run while a test unwinds.
            let data = self.dir.join("data");
            let mut command = if root() {
                let mut runuser = Command::new("runuser");
                runuser.args(["-u", "postgres", "--"]);
                runuser.arg(bin().join("pg_ctl"));
                runuser
            } else {
                Command::new(bin().join("pg_ctl"))
            };
            let _ = command
                .arg("-D")
                .arg(&data)
                .args(["-w", "-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A session of [`Postgres::session`]: its transaction open until [`Session::end`] (or its
/// drop, which ends `psql` and so rolls it back).
pub struct Session {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
}

impl Session {
    /// Commit (releasing its locks) and wait for `psql` to end.
    pub fn end(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            writeln!(stdin, "COMMIT;").expect("psql takes COMMIT");
        }
        let status = self.child.wait().expect("psql ends");
        assert!(status.success(), "psql: {status}");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
