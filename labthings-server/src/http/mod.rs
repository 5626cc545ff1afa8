pub mod cors;
pub mod origin;
pub mod request_body;
pub mod response;
