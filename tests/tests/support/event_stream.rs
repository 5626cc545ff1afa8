//! An event stream read off a raw socket, for the SSE tests.

use std::time::Duration;

use super::chunked::Chunked;

/// An event stream read off a raw socket (TCP or TLS): its head, then its body message by
/// message — chunk by chunk for HTTP/1.1, as the bytes come for HTTP/1.0 (whose body ends at
/// the close). Every read gives up after 20 s.
pub struct EventStream<S> {
    reader: tokio::io::BufReader<S>,
    /// The response head, status line to the blank line.
    pub head: String,
    body: Chunked,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> EventStream<S> {
    const PATIENCE: Duration = Duration::from_secs(20);

    /// Send `GET path` (with `version`, `HTTP/1.1` or `HTTP/1.0`, and `Accept:
    /// text/event-stream`) on `socket` and read the head of the answer.
    pub async fn open(mut socket: S, version: &str, path: &str) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let request =
            format!("GET {path} {version}\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
        socket.write_all(request.as_bytes()).await.expect("send");
        let mut reader = tokio::io::BufReader::new(socket);
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            let read = tokio::time::timeout(Self::PATIENCE, reader.read_line(&mut head))
                .await
                .expect("the head in time")
                .expect("read");
            assert!(read > 0, "the connection closed in the head: {head:?}");
        }
        Self {
            reader,
            head,
            body: Chunked::default(),
        }
    }

    /// The next chunk's data, `None` for the last chunk (the body's end).
    pub async fn chunk(&mut self) -> Option<String> {
        let data = tokio::time::timeout(Self::PATIENCE, self.body.chunk(&mut self.reader))
            .await
            .expect("a chunk in time")?;
        Some(String::from_utf8(data).expect("UTF-8"))
    }

    /// The next chunk, which must be there.
    pub async fn message(&mut self) -> String {
        self.chunk().await.expect("the stream goes on")
    }

    /// Exactly `n` more bytes of body (HTTP/1.0: no chunks).
    pub async fn bytes(&mut self, n: usize) -> String {
        use tokio::io::AsyncReadExt;
        let mut data = vec![0; n];
        tokio::time::timeout(Self::PATIENCE, self.reader.read_exact(&mut data))
            .await
            .expect("the bytes in time")
            .expect("read");
        String::from_utf8(data).expect("UTF-8")
    }

    /// Whatever else comes before the connection closes (which it must, in time).
    pub async fn rest(&mut self) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut rest = Vec::new();
        tokio::time::timeout(Self::PATIENCE, self.reader.read_to_end(&mut rest))
            .await
            .expect("the connection closes in time")
            .expect("a clean close");
        rest
    }

    /// The socket, to write more on it.
    pub fn socket(&mut self) -> &mut S {
        self.reader.get_mut()
    }
}
