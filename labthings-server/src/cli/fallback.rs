//! The fallback server (`--fallback`): when start-up fails, an operator opening the server's
//! address in a browser sees why, instead of a refused connection.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::http::response::{self, Body};
use crate::net::listener::accept_until;

/// Serve the error page on `addr` until `stop` resolves.
pub async fn serve(addr: SocketAddr, error: &str, config: &str, stop: impl Future<Output = ()>) {
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(bind_error) => {
            eprintln!("labthings: the fallback server could not listen on {addr}: {bind_error}");
            return;
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    eprintln!("labthings: serving the error page on http://{bound}/");
    let page: Arc<Bytes> = Arc::new(page(error, config).into());
    let connections = accept_until(listener, stop, |stream| {
        let page = page.clone();
        let service = service_fn(move |request| {
            let page = page.clone();
            async move { Ok::<_, Infallible>(answer(&request, &page)) }
        });
        async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await;
    // The process is about to exit: open connections are dropped, not drained.
    drop(connections);
}

fn answer<B>(request: &Request<B>, page: &Bytes) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return response::method_not_allowed(&["GET"]);
    }
    match request.uri().path() {
        "/" => {
            let mut response = Response::new(Body::full(page.clone()));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        "/labthings_fallback" => response::json(StatusCode::OK, &true),
        _ => response::redirect("/"),
    }
}

fn page(error: &str, config: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>LabThings: start-up failed</title></head>\n<body>\n<h1>LabThings could not start</h1>\n<h2>Error</h2>\n<pre>{}</pre>\n<h2>Configuration</h2>\n<pre>{}</pre>\n</body></html>\n",
        escape(error),
        escape(config)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
