//! The podterm server binary (the `ssr` build).

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use clap::Parser;
    let args = podterm::server::web::cli::Args::parse();
    podterm::server::web::cli::init_logs(args.log_format);
    match podterm::server::web::start::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("podterm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build is a library (hydrate); this binary is only built with `ssr`.
}
