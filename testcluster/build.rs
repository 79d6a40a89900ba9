//! Builds the distroless demo image's only program: a static C program (no shell, no
//! libc beside it in its tree). Without a C compiler or a static libc, the build goes on
//! and `distroless` images fail to start with a message saying why.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "distroless/server.c";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-env-changed=CC");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let program = out.join("distroless-server");
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&compiler)
        .args(["-static", "-Os", "-s", "-o"])
        .arg(&program)
        .arg(source)
        .status();
    match built {
        Ok(status) if status.success() => {}
        outcome => {
            println!(
                "cargo:warning=distroless demo program not built ({compiler} -static: {outcome:?}); \
                 install gcc and libc6-dev"
            );
            std::fs::write(&program, b"").expect("OUT_DIR is writable");
        }
    }
}
