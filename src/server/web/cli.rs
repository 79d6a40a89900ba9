//! Command line and environment settings, and what they make: the auth, connection and
//! site settings, and the logs. Start-up itself is `start`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ipnet::IpNet;
use leptos::prelude::get_configuration;
use secrecy::SecretString;

use crate::server::web::auth::{AuthConfig, Mode};
use crate::server::web::connections;
use crate::server::web::impersonation::ImpersonationPolicy;
use crate::server::web::logins::random_hex;

/// A web terminal for Kubernetes pods.
///
/// Clusters come from the kubeconfig (KUBECONFIG or ~/.kube/config), or from the pod's
/// service account when running in a cluster. With --demo, podterm starts its own test
/// cluster with demo pods instead, and says so on every page.
///
/// Every setting is also an environment variable (shown with each flag).
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
pub struct Args {
    /// Address to listen on (default: the site address in Leptos.toml, 127.0.0.1:3000).
    /// Another address than loopback needs an explicit --auth or --token.
    #[arg(long, env = "PODTERM_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Serve a built-in demo cluster (an in-process testcluster with demo pods) instead of
    /// the kubeconfig's clusters; only in builds with the `demo` feature.
    #[arg(long, env = "PODTERM_DEMO")]
    pub demo: bool,

    /// How people log in: `token` (one access token; cluster calls use podterm's own
    /// credentials), `proxy` (a trusted proxy names the user; calls impersonate them),
    /// `user-token` (each person logs in with their own Kubernetes token).
    #[arg(long, value_enum, env = "PODTERM_AUTH")]
    pub auth: Option<Mode>,

    /// The access token for `--auth token`, at least 32 characters. When none is given,
    /// podterm makes one and prints a login link once at start.
    #[arg(long, env = "PODTERM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Read the access token from this file instead.
    #[arg(long, env = "PODTERM_TOKEN_FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,

    /// Addresses (IP or CIDR) of proxies whose user headers and X-Forwarded-* are trusted.
    #[arg(
        long = "trusted-proxy",
        env = "PODTERM_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_trusted_proxy
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// Users a trusted proxy may name (`--auth proxy`); `*` matches any run of characters.
    /// Names starting with `system:` are refused unless a pattern starting with `system:`
    /// allows them.
    #[arg(
        long = "impersonate-user-pattern",
        env = "PODTERM_IMPERSONATE_USER_PATTERNS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub impersonate_user_patterns: Vec<String>,

    /// Groups passed on from a trusted proxy (`--auth proxy`); others are left out. A
    /// `system:` group is refused unless a pattern starting with `system:` allows it.
    #[arg(
        long = "impersonate-group-pattern",
        env = "PODTERM_IMPERSONATE_GROUP_PATTERNS",
        value_delimiter = ',',
        default_value = "*"
    )]
    pub impersonate_group_patterns: Vec<String>,

    /// Serve only requests for these host names (Host, or a trusted proxy's
    /// X-Forwarded-Host; with the port if it is not the default); health checks excepted.
    #[arg(
        long = "allowed-host",
        env = "PODTERM_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Send Strict-Transport-Security with this max-age in seconds (0: not sent). Only
    /// for podterm served over HTTPS.
    #[arg(long, env = "PODTERM_HSTS_SECONDS", default_value_t = 0)]
    pub hsts_seconds: u64,

    /// The header a trusted proxy names the user in (`--auth proxy`).
    #[arg(
        long,
        env = "PODTERM_PROXY_USER_HEADER",
        default_value = "X-Forwarded-User"
    )]
    pub proxy_user_header: String,

    /// The header a trusted proxy lists the user's groups in, comma-separated.
    #[arg(
        long,
        env = "PODTERM_PROXY_GROUPS_HEADER",
        default_value = "X-Forwarded-Groups"
    )]
    pub proxy_groups_header: String,

    /// Other origins allowed to open terminals (e.g. https://podterm.example.com when a
    /// proxy rewrites Host).
    #[arg(
        long = "allowed-origin",
        env = "PODTERM_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// How long a login lasts, in hours.
    #[arg(long, env = "PODTERM_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: u64,

    /// Users who may list and end everyone's sessions (proxy and user-token modes; in
    /// token mode the token holder is the administrator).
    #[arg(
        long = "admin-user",
        env = "PODTERM_ADMIN_USERS",
        value_delimiter = ','
    )]
    pub admin_users: Vec<String>,

    /// Groups whose members are administrators.
    #[arg(
        long = "admin-group",
        env = "PODTERM_ADMIN_GROUPS",
        value_delimiter = ','
    )]
    pub admin_groups: Vec<String>,

    /// Terminals one person may have open at once.
    #[arg(long, env = "PODTERM_MAX_SESSIONS_PER_USER", default_value_t = 16)]
    pub max_sessions_per_user: usize,

    /// Terminals one person may open per minute.
    #[arg(long, env = "PODTERM_MAX_STARTS_PER_MINUTE", default_value_t = 60)]
    pub max_starts_per_minute: usize,

    /// End terminals after this many minutes (0: no limit).
    #[arg(long, env = "PODTERM_MAX_SESSION_MINUTES", default_value_t = 0)]
    pub max_session_minutes: u64,

    /// Serve under this path prefix, e.g. /terminal behind a proxy (requests may arrive
    /// with or without it; links, assets and redirects carry it).
    #[arg(long, env = "PODTERM_BASE_PATH", default_value = "")]
    pub base_path: String,

    /// Also serve /metrics without a login on this address (for a Prometheus scraper);
    /// on the main address /metrics needs a login like every other page.
    #[arg(long, env = "PODTERM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Seconds a session waits for its page after the connection drops; the page
    /// reconnects on its own and the output it missed is replayed.
    #[arg(long, env = "PODTERM_RESUME_GRACE_SECONDS", default_value_t = 30)]
    pub resume_grace_seconds: u64,

    /// End terminals that received no input for this many minutes (0: never).
    #[arg(long, env = "PODTERM_IDLE_TIMEOUT_MINUTES", default_value_t = 0)]
    pub idle_timeout_minutes: u64,

    /// Leave a session's processes running in the pod when it ends. By default podterm
    /// ends them (runtimes keep an exec's shell alive after its client goes away).
    #[arg(long, env = "PODTERM_KEEP_PROCESSES")]
    pub keep_processes: bool,

    /// The image of the debug containers podterm starts beside a container (its `sleep`
    /// keeps it running; a shell in it is exec'd).
    #[arg(long, env = "PODTERM_DEBUG_IMAGE", default_value = "busybox:1.36")]
    pub debug_image: String,

    /// Other images a person may choose for a debug container (comma-separated).
    #[arg(
        long = "debug-images",
        env = "PODTERM_DEBUG_IMAGES",
        value_delimiter = ','
    )]
    pub debug_images: Vec<String>,

    /// The largest file (or folder, as a tar) one upload or download may move.
    #[arg(long, env = "PODTERM_MAX_TRANSFER_BYTES", default_value_t = 8 << 30)]
    pub max_transfer_bytes: u64,

    /// File transfers one person may run at once.
    #[arg(long, env = "PODTERM_MAX_TRANSFERS_PER_USER", default_value_t = 8)]
    pub max_transfers_per_user: usize,

    /// The largest upload the container's `sha256sum` checks after it lands (hashing in a
    /// container can take longer than the upload itself); larger ones have their size
    /// checked. 0 checks only sizes.
    #[arg(long, env = "PODTERM_HASH_UPLOADS_UP_TO", default_value_t = 256 << 20)]
    pub hash_uploads_up_to: u64,

    /// Write the audit trail (one JSON line per session start and end) to this file
    /// instead of standard error.
    #[arg(long, env = "PODTERM_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Record every session's output as an asciicast v2 file in this directory.
    #[arg(long, env = "PODTERM_RECORD_DIR")]
    pub record_dir: Option<PathBuf>,

    /// Also record what people type (this captures passwords typed into terminals).
    #[arg(long, env = "PODTERM_RECORD_INPUT", requires = "record_dir")]
    pub record_input: bool,

    /// Site settings for running without cargo-leptos (the release binary in an image).
    #[arg(long, env = "PODTERM_LEPTOS_TOML", default_value = "Leptos.toml")]
    pub leptos_toml: PathBuf,

    /// Where the built site (pkg/, vendor/) is; overrides the settings file.
    #[arg(long, env = "PODTERM_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// Seconds a client has to send a request's headers; slower connections are closed. An
    /// idle kept-alive connection is closed after as long.
    #[arg(
        long,
        env = "PODTERM_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub header_read_timeout_seconds: u64,

    /// Client connections served at once, terminals included; more are closed at once
    /// (default: half the open-file limit, at most 16384).
    #[arg(
        long,
        env = "PODTERM_MAX_CONNECTIONS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_connections: Option<u64>,

    /// Connections one client address (IPv4 address or IPv6 /64) may hold; at most half of
    /// --max-connections. Trusted proxies are held only to the total.
    #[arg(
        long,
        env = "PODTERM_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_connections_per_address: u64,

    /// Log format.
    #[arg(long, value_enum, default_value = "text", env = "PODTERM_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,tungstenite=warn,kube=warn,hyper=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Loads the Leptos site settings: from cargo-leptos's environment when it runs us,
/// otherwise from the settings file.
pub(super) fn leptos_options(args: &Args) -> Result<leptos::prelude::LeptosOptions, String> {
    let under_cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let path = args.leptos_toml.to_string_lossy().into_owned();
    let conf = if under_cargo_leptos {
        get_configuration(None)
    } else {
        get_configuration(Some(&path))
    }
    .map_err(|e| format!("cannot read the site settings ({path}): {e}"))?;
    let mut options = conf.leptos_options;
    if let Some(addr) = args.listen {
        options.site_addr = addr;
    }
    if let Some(root) = &args.site_root {
        options.site_root = root.to_string_lossy().into_owned().into();
    }
    Ok(options)
}

/// Access tokens shorter than this are refused.
const MIN_TOKEN_LENGTH: usize = 32;

/// An IP address or a CIDR; the deploy files' placeholder gets a sentence of its own.
fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if text == "REPLACE-ME" {
        return Err("PODTERM_TRUSTED_PROXIES is still the deploy files' placeholder: set it to the \
             address or CIDR of your ingress controller's or login proxy's pods (e.g. 10.42.3.17 or \
             10.42.3.0/24), the only peers whose user headers podterm believes"
            .into());
    }
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("{text:?} is neither an IP address (10.0.0.5) nor a CIDR (10.0.0.0/24)")
        })
}

/// The authentication settings; refuses to serve beyond loopback without an explicit choice.
pub(super) fn auth_config(args: &Args, addr: SocketAddr) -> Result<(AuthConfig, bool), String> {
    let configured_token = match (&args.token, &args.token_file) {
        (Some(token), _) => Some(token.trim().to_string()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?
                .trim()
                .to_string(),
        ),
        (None, None) => None,
    };
    if configured_token
        .as_ref()
        .is_some_and(|t| t.len() < MIN_TOKEN_LENGTH)
    {
        return Err(format!(
            "the access token is too short: use at least {MIN_TOKEN_LENGTH} characters (for example `openssl rand -hex 32`)"
        ));
    }
    let explicit = args.auth.is_some() || configured_token.is_some();
    if !addr.ip().is_loopback() && !explicit {
        return Err(format!(
            "podterm would listen on {addr}, beyond this machine, with a generated token. Choose how people log \
             in: set --token (or PODTERM_TOKEN / --token-file), or --auth proxy with --trusted-proxy, or --auth user-token"
        ));
    }
    let mode = args.auth.unwrap_or(Mode::Token);
    if mode == Mode::Proxy && args.trusted_proxies.is_empty() {
        return Err("--auth proxy needs --trusted-proxy: the addresses of the proxies whose headers podterm may trust".into());
    }
    let generated = mode == Mode::Token && configured_token.is_none();
    let token = match mode {
        Mode::Token => Some(SecretString::from(
            configured_token.unwrap_or_else(|| random_hex(24)),
        )),
        _ => None,
    };
    let config = AuthConfig {
        mode,
        token,
        user_header: args.proxy_user_header.to_lowercase(),
        groups_header: args.proxy_groups_header.to_lowercase(),
        trusted_proxies: args.trusted_proxies.clone(),
        allowed_origins: args.allowed_origins.clone(),
        login_lifetime: Duration::from_secs(args.session_hours.max(1) * 3600),
        admin_users: args.admin_users.clone(),
        admin_groups: args.admin_groups.clone(),
        impersonation: ImpersonationPolicy {
            users: args.impersonate_user_patterns.clone(),
            groups: args.impersonate_group_patterns.clone(),
        },
        allowed_hosts: args.allowed_hosts.clone(),
        hsts_seconds: (args.hsts_seconds > 0).then_some(args.hsts_seconds),
    };
    Ok((config, generated))
}

/// The connection limits, for a process that may open `open_files` files.
pub(super) fn listener_settings(args: &Args, open_files: u64) -> connections::Settings {
    let mut settings = connections::Settings::for_open_files(open_files);
    settings.header_read_timeout = Duration::from_secs(args.header_read_timeout_seconds);
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    if let Some(max) = args.max_connections {
        settings.max_connections = count(max);
        if max > open_files / 2 {
            tracing::warn!(
                "--max-connections {max} is more than half the open-file limit ({open_files}): \
                 podterm may run out of files; raise the limit (ulimit -n) or lower --max-connections"
            );
        }
    }
    settings.max_connections_per_address = count(args.max_connections_per_address);
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_cidrs() {
        assert_eq!(
            parse_trusted_proxy("127.0.0.2").unwrap(),
            "127.0.0.2/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_trusted_proxy("::1").unwrap(),
            "::1/128".parse::<IpNet>().unwrap()
        );
        assert!(parse_trusted_proxy("10.42.0.0/16").is_ok());
        assert!(
            parse_trusted_proxy("REPLACE-ME")
                .unwrap_err()
                .contains("address or CIDR of your ingress controller")
        );
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
    }

    #[test]
    fn the_placeholder_stops_podterm_at_start() {
        let err = Args::try_parse_from([
            "podterm",
            "--auth",
            "proxy",
            "--trusted-proxy",
            "REPLACE-ME",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("still the deploy files' placeholder"), "{err}");
    }

    #[test]
    fn short_tokens_are_refused() {
        let args = Args::try_parse_from(["podterm", "--token", "0123456789abcdef0123456789abcde"])
            .unwrap();
        let err = auth_config(&args, "127.0.0.1:3000".parse().unwrap())
            .err()
            .unwrap();
        assert!(err.contains("at least 32 characters"), "{err}");
        let args = Args::try_parse_from(["podterm", "--token", &"x".repeat(32)]).unwrap();
        assert!(auth_config(&args, "127.0.0.1:3000".parse().unwrap()).is_ok());
    }
}
