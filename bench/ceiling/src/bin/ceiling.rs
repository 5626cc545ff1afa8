//! The benchmark's ceiling: a bare hyper 1 server that answers every request with one constant
//! JSON body, on the same runtime, hyper and socket settings as our server (tokio multi-thread
//! runtime, HTTP/1.1 keep-alive, `TCP_NODELAY`). Whatever our server does beyond this is the
//! cost of LabThings itself.
//!
//! ```text
//! ceiling [--port N] [--body-file FILE] [--status CODE]
//! ```
//! The body defaults to `null`; `bench/run` passes the very bytes our server answers in each
//! scenario, so both send the same number of bytes. The request body is read in full, as our
//! server does. The first line on stdout is `ceiling listening on http://ADDR`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

fn usage() -> ! {
    eprintln!("usage: ceiling [--port N] [--body-file FILE] [--status CODE]");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut port: u16 = 0;
    let mut body = Bytes::from_static(b"null");
    let mut status = StatusCode::OK;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage()),
            "--body-file" => {
                body = std::fs::read(&value)
                    .unwrap_or_else(|e| panic!("ceiling: reading {value}: {e}"))
                    .into()
            }
            "--status" => {
                status = value
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("ceiling: bind");
    println!(
        "ceiling listening on http://{}",
        listener.local_addr().expect("local_addr")
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body, as a real handler would.
                    let _ = request.into_body().collect().await;
                    let mut response = Response::new(Full::new(body));
                    *response.status_mut() = status;
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
