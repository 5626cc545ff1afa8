//! What the benchmark clients share: a keep-alive HTTP/1.1 connection, figures of a server
//! process from `/proc`, the server address argument and the one-JSON-line result.

use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A keep-alive HTTP/1.1 connection to one server.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Result<Self, Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: addr.to_string(),
        })
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<(StatusCode, Bytes), Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, &self.host);
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let body = Full::new(Bytes::from(body.unwrap_or("").to_owned()));
        self.sender.ready().await?;
        let response = self.sender.send_request(request.body(body)?).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Result<(StatusCode, Value), Error> {
        let (status, bytes) = self.send(method, path, body).await?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{path}: {status}: bad JSON ({e}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            )
        })?;
        Ok((status, value))
    }
}

/// A figure of `/proc/<pid>/status` (e.g. `VmRSS`, `VmHWM`, `Threads`; sizes in KiB).
pub fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The server's address from a base URL such as `http://127.0.0.1:5000`.
pub fn server_addr(base: &str) -> Option<SocketAddr> {
    base.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// Print the result as one JSON line (or the error, prefixed by `tool`) and exit accordingly.
pub fn finish(tool: &str, result: Result<Value, Error>) -> ExitCode {
    match result {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{tool}: {error}");
            ExitCode::FAILURE
        }
    }
}
