//! A chunked HTTP/1.1 body (RFC 9112 §7.1) read strictly off a raw socket, for the tests that
//! check the framing a streaming response puts on the wire: the SSE ones (a chunk a message)
//! and the MJPEG ones (frames read as bytes, across chunk boundaries).

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Where a reader is in a chunked body. Every size line must be hex ending in CRLF, every
/// chunk's data must be followed by CRLF, and the body ends with the last chunk (`0` CRLF
/// CRLF, no trailers); anything else fails the test.
#[derive(Debug, Default)]
pub struct Chunked {
    /// Data bytes left in the current chunk; `None` at a chunk's start.
    left: Option<usize>,
    /// The last chunk has been read.
    ended: bool,
}

impl Chunked {
    /// The next whole chunk's data, `None` for the last chunk. Only at a chunk's start.
    pub async fn chunk<R: AsyncBufRead + Unpin>(&mut self, reader: &mut R) -> Option<Vec<u8>> {
        assert!(self.left.is_none(), "in the middle of a chunk");
        let size = self.size(reader).await?;
        let mut data = vec![0; size];
        reader
            .read_exact(&mut data)
            .await
            .expect("the chunk's data");
        crlf(reader, "after a chunk's data").await;
        Some(data)
    }

    /// Up to `buf.len()` bytes of the body, whatever its chunks; 0 at its end.
    pub async fn read<R: AsyncBufRead + Unpin>(&mut self, reader: &mut R, buf: &mut [u8]) -> usize {
        let left = match self.left {
            Some(left) => left,
            None => match self.size(reader).await {
                Some(size) => size,
                None => return 0,
            },
        };
        let n = buf.len().min(left);
        let read = reader.read(&mut buf[..n]).await.expect("read");
        assert!(read > 0, "connection closed inside a chunk");
        self.left = Some(left - read);
        if left == read {
            crlf(reader, "after a chunk's data").await;
            self.left = None;
        }
        read
    }

    /// The next chunk's size (> 0), or `None` once the last chunk has been read.
    async fn size<R: AsyncBufRead + Unpin>(&mut self, reader: &mut R) -> Option<usize> {
        if self.ended {
            return None;
        }
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("read");
        let size = line
            .strip_suffix("\r\n")
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .unwrap_or_else(|| panic!("a chunk-size line, not {line:?}"));
        if size == 0 {
            crlf(reader, "after the last chunk").await;
            self.ended = true;
            return None;
        }
        Some(size)
    }
}

async fn crlf<R: AsyncBufRead + Unpin>(reader: &mut R, what: &str) {
    let mut end = [0; 2];
    reader.read_exact(&mut end).await.expect("read");
    assert_eq!(&end, b"\r\n", "CRLF {what}");
}
