//! The web layer: settings (`cli`) and start-up (`start`, `demo`), the accept loop
//! (`listener`) and its connection limits (`connections`), who is calling (`auth` with
//! `client`, `identity` and `impersonation`), logging in and out (`login` with
//! `login_page`, `logins`, `login_cookie` and `login_throttle`), response headers
//! (`headers`), the base path (`base_path`), the admin API (`admin`) and metrics
//! (`metrics`), and the router that puts them together (`router`).

pub mod admin;
pub mod auth;
pub mod base_path;
pub mod cli;
pub mod client;
pub mod connections;
pub mod demo;
pub mod headers;
pub mod identity;
pub mod impersonation;
pub mod listener;
pub mod login;
pub mod login_cookie;
pub mod login_page;
pub mod login_throttle;
pub mod logins;
pub mod metrics;
pub mod router;
pub mod start;
