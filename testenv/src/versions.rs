//! The pinned versions, read from `controlplane/go.mod` so there is one place to bump them.

use std::path::PathBuf;

const GO_MOD: &str = include_str!("../../controlplane/go.mod");

fn pinned(module: &str) -> &'static str {
    GO_MOD
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(module))
                .then(|| words.next())
                .flatten()
        })
        .unwrap_or_else(|| panic!("{module} is not pinned in controlplane/go.mod"))
}

/// The kube-apiserver and kubectl release, e.g. `v1.37.2`.
pub fn kubernetes_version() -> &'static str {
    pinned("k8s.io/kubernetes")
}

/// The etcd release, e.g. `v3.7.0`.
pub fn etcd_version() -> &'static str {
    pinned("go.etcd.io/etcd/server/v3")
}

/// Where `ensure_control_plane` puts the binaries: `$PODTERM_CONTROL_PLANE_BIN`, else the
/// directory it would choose for the pinned versions.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PODTERM_CONTROL_PLANE_BIN") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    let versions = format!(
        "{}-etcd{}",
        kubernetes_version(),
        etcd_version().trim_start_matches('v')
    );
    PathBuf::from(home)
        .join(".cache/podterm-controlplane")
        .join(versions)
        .join("bin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_read_from_go_mod() {
        assert!(kubernetes_version().starts_with("v1."));
        assert!(etcd_version().starts_with("v3."));
    }

    #[test]
    fn the_default_directory_names_both_versions() {
        if std::env::var_os("PODTERM_CONTROL_PLANE_BIN").is_some() {
            return;
        }
        let dir = bin_dir();
        let versions = dir.parent().unwrap().file_name().unwrap().to_str().unwrap();
        let etcd = etcd_version().trim_start_matches('v');
        assert_eq!(versions, format!("{}-etcd{etcd}", kubernetes_version()));
    }
}
