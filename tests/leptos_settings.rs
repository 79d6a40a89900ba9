//! Leptos.toml (read by the release binary) and Cargo.toml's metadata (read by cargo-leptos)
//! must not drift: every key both have holds the same value.

fn leptos_table(path: &str) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{path}: {e}"));
    doc["package"]["metadata"]["leptos"]
        .as_table()
        .cloned()
        .unwrap_or_else(|| panic!("{path} has no [package.metadata.leptos]"))
}

#[test]
fn shared_keys_agree() {
    // As `cargo test` names it when it runs the test: the path compiled in can be another
    // checkout's, as checkouts share one target directory.
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let cargo = leptos_table(&format!("{root}/Cargo.toml"));
    let site = leptos_table(&format!("{root}/Leptos.toml"));
    let shared: Vec<&String> = site.keys().filter(|k| cargo.contains_key(*k)).collect();
    assert!(
        shared.len() >= 4,
        "Leptos.toml shares its site keys with Cargo.toml: {shared:?}"
    );
    for key in shared {
        assert_eq!(
            site[key], cargo[key],
            "{key} differs between Leptos.toml and Cargo.toml"
        );
    }
    for key in site.keys() {
        assert!(
            cargo.contains_key(key),
            "Leptos.toml has {key}, which cargo-leptos would never see"
        );
    }
}
