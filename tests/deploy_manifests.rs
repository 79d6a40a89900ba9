//! The deployment files (deploy/, Containerfile) checked without a cluster or a container
//! engine, neither of which CI has: every YAML document parses and names itself, the
//! kustomizations point at files that exist, the RBAC rules are exactly what the code calls
//! with podterm's own identity, the Deployment is locked down and uses only settings podterm
//! reads, and the image is built with the tool versions the project pins.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::Value;

/// (apiGroup, resource, verb); a subresource is written `pods/exec`.
type Rule = (String, String, String);

/// A rule written as a literal.
type RuleRef = (&'static str, &'static str, &'static str);

/// What podterm's own identity needs: the base ClusterRole must grant exactly this.
const REQUIRED: &[RuleRef] = &[
    ("", "pods", "get"),
    ("", "pods", "list"),
    ("", "pods", "watch"),
    ("", "namespaces", "list"),
    ("", "namespaces", "watch"),
    // The exec WebSocket is a GET, authorized as `get`; Kubernetes 1.35+ also wants `create`.
    ("", "pods/exec", "get"),
    ("", "pods/exec", "create"),
    // A terminal on a container's main process.
    ("", "pods/attach", "get"),
    ("", "pods/attach", "create"),
    // A container's log, beside its terminal.
    ("", "pods/log", "get"),
    // A debug container beside a container.
    ("", "pods/ephemeralcontainers", "patch"),
    ("authorization.k8s.io", "selfsubjectaccessreviews", "create"),
    ("authentication.k8s.io", "selfsubjectreviews", "create"),
];

/// Granted on purpose although no call in src/server makes it today: podterm may list
/// namespaces anyway, and a watch lets the namespace picker follow them without seeing more.
const GRANTED_AHEAD: &[RuleRef] = &[("", "namespaces", "watch")];

/// Only the proxy overlay may add rules, and only these.
const PROXY_ONLY: &[RuleRef] = &[("", "users", "impersonate"), ("", "groups", "impersonate")];

fn rule(group: &str, resource: &str, verb: &str) -> Rule {
    (group.to_string(), resource.to_string(), verb.to_string())
}

fn rules_of(list: &[RuleRef]) -> BTreeSet<Rule> {
    list.iter().map(|(g, r, v)| rule(g, r, v)).collect()
}

/// The checkout under test: `cargo test` names it when it runs the test. The path compiled
/// in can be another checkout's, as checkouts share one target directory.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(root()).unwrap_or(path).to_path_buf()
}

/// Files under `dir` (recursively) whose names end with one of `endings`, sorted.
fn files_under(dir: &Path, endings: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if endings
                .iter()
                .any(|end| path.to_string_lossy().ends_with(end))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

// ---------------------------------------------------------------------------------------
// YAML documents

struct Doc {
    /// Relative to the repository root, e.g. deploy/base/deployment.yaml.
    file: PathBuf,
    index: usize,
    value: Value,
}

impl Doc {
    fn at(&self) -> String {
        format!("{} (document {})", self.file.display(), self.index + 1)
    }
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
    fn is_in(&self, dir: &str) -> bool {
        self.file.starts_with(dir)
    }
}

/// Every document in a file (a file may hold several, separated by `---`).
fn documents(path: &Path) -> Vec<Doc> {
    let text = read(path);
    let file = relative(path);
    let mut docs = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(&text).enumerate() {
        let value = Value::deserialize(document).unwrap_or_else(|e| {
            panic!(
                "{} (document {}) is not valid YAML: {e}",
                file.display(),
                index + 1
            )
        });
        // An empty document, e.g. after a trailing `---`.
        if !value.is_null() {
            docs.push(Doc {
                file: file.clone(),
                index,
                value,
            });
        }
    }
    docs
}

fn deploy_docs() -> Vec<Doc> {
    files_under(&root().join("deploy"), &[".yaml", ".yml"])
        .iter()
        .flat_map(|path| documents(path))
        .collect()
}

fn one<'a>(docs: &'a [Doc], dir: &str, kind: &str) -> &'a Doc {
    let found: Vec<&Doc> = docs
        .iter()
        .filter(|d| d.is_in(dir) && d.kind() == kind)
        .collect();
    assert_eq!(found.len(), 1, "{dir} should hold exactly one {kind}");
    found[0]
}

fn strings(value: &Value, what: &str) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("{what} should be a list"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{what} should hold strings"))
                .to_string()
        })
        .collect()
}

/// The (apiGroup, resource, verb) triples a Role or ClusterRole grants.
fn granted(doc: &Doc) -> BTreeSet<Rule> {
    let mut out = BTreeSet::new();
    let rules = doc.value["rules"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{}: a role without rules", doc.at()));
    for rule in rules {
        assert!(
            rule["nonResourceURLs"].is_null(),
            "{}: podterm needs no non-resource URLs",
            doc.at()
        );
        // Impersonation is the one grant narrowed by name (the groups people may act as).
        let only_impersonate = strings(&rule["verbs"], "verbs") == ["impersonate"];
        assert!(
            rule["resourceNames"].is_null() || only_impersonate,
            "{}: resourceNames would not match podterm's calls",
            doc.at()
        );
        let what = doc.at();
        for group in strings(&rule["apiGroups"], &format!("{what}: apiGroups")) {
            for resource in strings(&rule["resources"], &format!("{what}: resources")) {
                for verb in strings(&rule["verbs"], &format!("{what}: verbs")) {
                    out.insert((group.clone(), resource.clone(), verb));
                }
            }
        }
    }
    out
}

fn roles_in<'a>(docs: &'a [Doc], dir: &'a str) -> impl Iterator<Item = &'a Doc> + 'a {
    docs.iter()
        .filter(move |d| d.is_in(dir) && matches!(d.kind(), "ClusterRole" | "Role"))
}

fn granted_in(docs: &[Doc], dir: &str) -> BTreeSet<Rule> {
    roles_in(docs, dir).flat_map(granted).collect()
}

#[test]
fn every_document_parses_and_names_itself() {
    let docs = deploy_docs();
    assert!(
        docs.len() >= 10,
        "deploy/ holds only {} documents",
        docs.len()
    );
    for doc in &docs {
        let api_version = doc.value["apiVersion"].as_str().unwrap_or("");
        assert!(!api_version.is_empty(), "{}: no apiVersion", doc.at());
        assert!(!doc.kind().is_empty(), "{}: no kind", doc.at());
        let is_kustomization = doc
            .file
            .file_name()
            .is_some_and(|n| n == "kustomization.yaml");
        if is_kustomization {
            assert_eq!(doc.kind(), "Kustomization", "{}", doc.at());
            assert_eq!(doc.index, 0, "{}: one document per kustomization", doc.at());
        } else {
            assert_ne!(
                doc.kind(),
                "Kustomization",
                "{}: name it kustomization.yaml",
                doc.at()
            );
            assert!(!doc.name().is_empty(), "{}: no metadata.name", doc.at());
        }
    }
}

#[test]
fn kustomizations_point_at_files_that_exist() {
    let deploy = root().join("deploy");
    let mut referenced = BTreeSet::new();
    let kustomizations: Vec<PathBuf> = files_under(&deploy, &["kustomization.yaml"]);
    assert!(
        kustomizations.len() >= 2,
        "deploy/ needs base and the proxy overlay"
    );
    for path in &kustomizations {
        let dir = path.parent().expect("a directory");
        let at = relative(path);
        let doc = &documents(path)[0].value;
        let mut paths = Vec::new();
        for key in ["resources", "components", "patchesStrategicMerge"] {
            if !doc[key].is_null() {
                paths.extend(strings(&doc[key], &format!("{}: {key}", at.display())));
            }
        }
        for patch in doc["patches"].as_sequence().into_iter().flatten() {
            match (patch.as_str(), patch["path"].as_str()) {
                (Some(p), _) | (None, Some(p)) => paths.push(p.to_string()),
                // An inline patch names no file.
                _ => assert!(
                    patch["patch"].is_string(),
                    "{}: a patch without a path or an inline patch",
                    at.display()
                ),
            }
        }
        assert!(!paths.is_empty(), "{}: lists nothing", at.display());
        for p in paths {
            assert!(
                !Path::new(&p).is_absolute() && !p.contains("://"),
                "{}: {p} should be a path inside the repository",
                at.display()
            );
            let target = dir.join(&p);
            assert!(target.exists(), "{}: {p} does not exist", at.display());
            if target.is_dir() {
                assert!(
                    target.join("kustomization.yaml").is_file(),
                    "{}: {p} is a directory without a kustomization.yaml",
                    at.display()
                );
            } else {
                referenced.insert(target.canonicalize().expect("canonical path"));
            }
        }
    }
    // Nothing lies around unused, and the example Secret is never applied.
    for path in files_under(&deploy, &[".yaml", ".yml"]) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let used = referenced.contains(&path.canonicalize().unwrap());
        if name.ends_with(".example.yaml") {
            assert!(
                !used,
                "{}: an example must not be applied",
                relative(&path).display()
            );
        } else if name != "kustomization.yaml" {
            assert!(used, "{} is in no kustomization", relative(&path).display());
        }
    }
    let base = documents(&deploy.join("base/kustomization.yaml"));
    assert_eq!(
        base[0].value["namespace"].as_str(),
        Some("podterm"),
        "deploy/base/kustomization.yaml should put everything in the podterm namespace"
    );
}

#[test]
fn base_role_is_exactly_what_podterm_needs() {
    let docs = deploy_docs();
    let base = granted_in(&docs, "deploy/base");
    let required = rules_of(REQUIRED);
    let missing: Vec<&Rule> = required.difference(&base).collect();
    assert!(
        missing.is_empty(),
        "the base ClusterRole lacks {missing:?}: podterm's calls would be refused"
    );
    let extra: Vec<&Rule> = base.difference(&required).collect();
    assert!(
        extra.is_empty(),
        "the base ClusterRole grants {extra:?}, beyond what podterm needs (least privilege)"
    );
}

#[test]
fn no_wildcards_secrets_or_impersonation_outside_the_proxy_overlay() {
    let docs = deploy_docs();
    for role in roles_in(&docs, "deploy") {
        for (group, resource, verb) in granted(role) {
            for part in [&group, &resource, &verb] {
                assert!(!part.contains('*'), "{}: a wildcard in {part:?}", role.at());
            }
            assert_ne!(
                resource,
                "secrets",
                "{}: podterm reads no Secrets",
                role.at()
            );
            assert!(
                !matches!(verb.as_str(), "escalate" | "bind"),
                "{}: {verb} would let podterm raise its own rights",
                role.at()
            );
            if verb == "impersonate" {
                assert!(
                    role.is_in("deploy/overlays/proxy"),
                    "{}: impersonate belongs only in deploy/overlays/proxy",
                    role.at()
                );
            }
        }
    }
    assert_eq!(
        granted_in(&docs, "deploy/overlays/proxy"),
        rules_of(PROXY_ONLY),
        "the proxy overlay should add impersonation of users and groups, and nothing else"
    );
}

#[test]
fn every_role_is_bound_to_podterms_service_account() {
    let docs = deploy_docs();
    let account = one(&docs, "deploy/base", "ServiceAccount");
    assert_eq!(account.name(), "podterm");
    let deployment = one(&docs, "deploy/base", "Deployment");
    assert_eq!(
        deployment.value["spec"]["template"]["spec"]["serviceAccountName"].as_str(),
        Some("podterm"),
        "the Deployment should run as the podterm service account"
    );
    let roles: BTreeSet<&str> = roles_in(&docs, "deploy").map(Doc::name).collect();
    let mut bound = BTreeSet::new();
    for binding in docs
        .iter()
        .filter(|d| matches!(d.kind(), "ClusterRoleBinding" | "RoleBinding"))
    {
        let role = &binding.value["roleRef"];
        assert_eq!(
            role["kind"].as_str(),
            Some("ClusterRole"),
            "{}",
            binding.at()
        );
        let name = role["name"].as_str().unwrap_or("");
        assert!(
            roles.contains(name),
            "{}: binds unknown role {name:?}",
            binding.at()
        );
        bound.insert(name);
        let subjects = binding.value["subjects"].as_sequence().expect("subjects");
        assert_eq!(subjects.len(), 1, "{}: only podterm", binding.at());
        let subject = &subjects[0];
        assert_eq!(
            subject["kind"].as_str(),
            Some("ServiceAccount"),
            "{}",
            binding.at()
        );
        assert_eq!(
            subject["name"].as_str(),
            Some("podterm"),
            "{}",
            binding.at()
        );
        assert_eq!(
            subject["namespace"].as_str(),
            Some("podterm"),
            "{}",
            binding.at()
        );
    }
    assert_eq!(bound, roles, "every role should be bound, each once");
}

// ---------------------------------------------------------------------------------------
// The calls the code makes

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(char),
}

/// `r"…"` or `r#"…"#` (not the raw identifier `r#type`).
fn is_raw_string(rest: &[char]) -> bool {
    let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
    rest.get(1 + hashes) == Some(&'"')
}

/// A small Rust tokenizer: identifiers, string literals and punctuation; comments, char
/// literals and lifetimes dropped. Enough to follow `let pods: Api<Pod> = …; pods.get(…)`.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' || (c == 'r' && is_raw_string(&chars[i..])) {
            // Plain and raw strings; escapes are kept as written.
            let mut hashes = 0;
            if c == 'r' {
                i += 1;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
            }
            i += 1;
            let mut text = String::new();
            while let Some(&ch) = chars.get(i) {
                if c != 'r' && ch == '\\' {
                    text.push(ch);
                    text.extend(chars.get(i + 1));
                    i += 2;
                    continue;
                }
                if ch == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                text.push(ch);
                i += 1;
            }
            out.push(Token::Str(text));
        } else if c == '\'' {
            // 'x', '\n' (char literals) or 'a (a lifetime).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

fn is_ident(t: Option<&Token>, name: &str) -> bool {
    matches!(t, Some(Token::Ident(i)) if i == name)
}

fn is_punct(t: Option<&Token>, c: char) -> bool {
    t == Some(&Token::Punct(c))
}

/// A kube-rs type's API group and plural resource name.
fn resource_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "Pod" => ("", "pods"),
        "Namespace" => ("", "namespaces"),
        "SelfSubjectAccessReview" => ("authorization.k8s.io", "selfsubjectaccessreviews"),
        "SelfSubjectReview" => ("authentication.k8s.io", "selfsubjectreviews"),
        other => panic!(
            "src/server uses Api<{other}>: teach tests/deploy_manifests.rs its group and resource"
        ),
    }
}

/// The verbs a kube-rs `Api` method (or a raw request builder method) needs, and the
/// subresource it acts on. None for methods that make no call.
fn verbs_of(method: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match method {
        "get" | "get_opt" | "get_metadata" | "get_metadata_opt" => ("", &["get"]),
        "list" | "list_metadata" => ("", &["list"]),
        "watch" | "watch_metadata" => ("", &["watch"]),
        "create" => ("", &["create"]),
        "delete" => ("", &["delete"]),
        "delete_collection" => ("", &["deletecollection"]),
        "patch" => ("", &["patch"]),
        "replace" => ("", &["update"]),
        // Streams start with a GET upgrade; Kubernetes 1.35+ also checks `create`.
        "exec" => ("/exec", &["get", "create"]),
        "attach" => ("/attach", &["get", "create"]),
        "portforward" => ("/portforward", &["get", "create"]),
        "logs" | "log_stream" => ("/log", &["get"]),
        "get_ephemeral_containers" => ("/ephemeralcontainers", &["get"]),
        "patch_ephemeral_containers" => ("/ephemeralcontainers", &["patch"]),
        "replace_ephemeral_containers" => ("/ephemeralcontainers", &["update"]),
        _ => return None,
    })
}

/// The resource a raw API path names: `/api/v1/namespaces/{}/pods` → ("", "pods", no name);
/// `/apis/authentication.k8s.io/v1/selfsubjectreviews` → that group and resource.
fn resource_of_path(path: &str) -> Option<(String, String, bool)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", _version, rest @ ..] => (String::new(), rest),
        ["apis", group, _version, rest @ ..] => (group.to_string(), rest),
        _ => return None,
    };
    let rest = match rest {
        ["namespaces", _, more @ ..] if !more.is_empty() => more,
        other => other,
    };
    let resource = rest.first()?;
    let resource = match rest.get(2) {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_string(),
    };
    Some((group, resource, rest.len() >= 2))
}

/// The API calls in one source file, each with a note of where it is.
fn calls_in(file: &str, source: &str) -> BTreeMap<Rule, Vec<String>> {
    let toks = tokens(source);
    let mut calls: BTreeMap<Rule, Vec<String>> = BTreeMap::new();
    let mut add = |group: &str, resource: String, verbs: &[&str], what: String| {
        for verb in verbs {
            calls
                .entry((group.to_string(), resource.clone(), verb.to_string()))
                .or_default()
                .push(format!("{file}: {what}"));
        }
    };
    // Typed APIs: `name: Api<Kind>` (a let or a parameter) and `let name = Api::<Kind>::…`.
    let mut bindings: Vec<(usize, String, String)> = Vec::new();
    let mut api_mentions = 0;
    for i in 0..toks.len() {
        if !is_ident(toks.get(i), "Api") {
            continue;
        }
        let generic_at = if is_punct(toks.get(i + 1), '<') {
            i + 1
        } else if is_punct(toks.get(i + 1), ':')
            && is_punct(toks.get(i + 2), ':')
            && is_punct(toks.get(i + 3), '<')
        {
            i + 3
        } else {
            continue;
        };
        api_mentions += 1;
        // The last path segment before `>`: `Api<k8s_openapi::…::Pod>` is a Pod.
        let mut j = generic_at + 1;
        let mut kind = None;
        while j < toks.len() && !is_punct(toks.get(j), '>') {
            if let Token::Ident(name) = &toks[j] {
                kind = Some(name.clone());
            }
            j += 1;
        }
        let kind = kind.expect("a kind in Api<…>");
        // Skip a path before it (`kube::Api<Pod>`), then expect `name:` or `name =`.
        let mut b = i;
        while b >= 3
            && is_punct(toks.get(b - 1), ':')
            && is_punct(toks.get(b - 2), ':')
            && matches!(toks.get(b - 3), Some(Token::Ident(_)))
        {
            b -= 3;
        }
        // A parameter: `pods: &Api<Pod>`.
        if b >= 1 && is_punct(toks.get(b - 1), '&') {
            b -= 1;
        }
        let typed = generic_at == i + 1 && b >= 2 && is_punct(toks.get(b - 1), ':');
        let assigned = b >= 2 && is_punct(toks.get(b - 1), '=');
        let name = if typed || assigned {
            toks.get(b - 2)
        } else {
            None
        };
        match name {
            Some(Token::Ident(name)) => bindings.push((i, name.clone(), kind)),
            _ => panic!(
                "{file}: cannot follow an Api<{kind}> that is not bound to a name; \
                 teach tests/deploy_manifests.rs this form"
            ),
        }
    }
    assert_eq!(
        api_mentions,
        bindings.len(),
        "{file}: every Api<…> is followed"
    );
    for (n, (start, name, kind)) in bindings.iter().enumerate() {
        // A binding holds until the same name is bound again.
        let end = bindings[n + 1..]
            .iter()
            .find(|(_, other, _)| other == name)
            .map_or(toks.len(), |(at, _, _)| *at);
        let (group, resource) = resource_of(kind);
        for i in *start..end {
            if !is_ident(toks.get(i), name) {
                continue;
            }
            // `name.method(`, and `watcher(name, …)` (a list, then a watch).
            if is_punct(toks.get(i + 1), '.')
                && is_punct(toks.get(i + 3), '(')
                && let Some(Token::Ident(method)) = toks.get(i + 2)
                && let Some((sub, verbs)) = verbs_of(method)
            {
                add(
                    group,
                    format!("{resource}{sub}"),
                    verbs,
                    format!("{name}.{method}"),
                );
            }
            if i >= 2
                && is_punct(toks.get(i - 1), '(')
                && matches!(toks.get(i - 2), Some(Token::Ident(f)) if f.ends_with("watcher"))
            {
                add(
                    group,
                    resource.to_string(),
                    &["list", "watch"],
                    format!("watcher({name})"),
                );
            }
        }
    }
    // Raw requests: `Request::post("/apis/…")` and `Request::new("/api/…/pods").exec(…)`.
    for i in 0..toks.len() {
        if !(is_ident(toks.get(i), "Request")
            && is_punct(toks.get(i + 1), ':')
            && is_punct(toks.get(i + 2), ':'))
        {
            continue;
        }
        let Some(Token::Ident(builder)) = toks.get(i + 3) else {
            continue;
        };
        let Some((path, path_at)) =
            toks[i + 4..]
                .iter()
                .take(6)
                .enumerate()
                .find_map(|(k, t)| match t {
                    Token::Str(s) if s.starts_with("/api") => Some((s.clone(), i + 4 + k)),
                    _ => None,
                })
        else {
            continue;
        };
        let (group, resource, named) = resource_of_path(&path)
            .unwrap_or_else(|| panic!("{file}: cannot read the API path {path:?}"));
        match builder.as_str() {
            "post" => add(&group, resource, &["create"], format!("POST {path}")),
            "get" => add(
                &group,
                resource,
                &[if named { "get" } else { "list" }],
                format!("GET {path}"),
            ),
            "put" => add(&group, resource, &["update"], format!("PUT {path}")),
            "patch" => add(&group, resource, &["patch"], format!("PATCH {path}")),
            "delete" => add(&group, resource, &["delete"], format!("DELETE {path}")),
            // kube's Request::new(base) builds the request with its next method.
            "new" => {
                let method = toks[path_at..].windows(3).take(40).find_map(|w| match w {
                    [Token::Punct('.'), Token::Ident(m), Token::Punct('(')] => {
                        verbs_of(m).map(|v| (m.clone(), v))
                    }
                    _ => None,
                });
                let (method, (sub, verbs)) = method.unwrap_or_else(|| {
                    panic!("{file}: cannot tell what Request::new({path:?}) is used for")
                });
                add(
                    &group,
                    format!("{resource}{sub}"),
                    verbs,
                    format!("Request::new({path}).{method}"),
                );
            }
            _ => {}
        }
    }
    calls
}

/// Every call in src/server, plus what plain mentions imply (a simple second opinion).
fn calls_in_source() -> (BTreeMap<Rule, Vec<String>>, String) {
    let mut calls: BTreeMap<Rule, Vec<String>> = BTreeMap::new();
    let mut all = String::new();
    for path in files_under(&root().join("src/server"), &[".rs"]) {
        let source = read(&path);
        let file = relative(&path).display().to_string();
        for (rule, wheres) in calls_in(&file, &source) {
            calls.entry(rule).or_default().extend(wheres);
        }
        all.push_str(&source);
    }
    let mentions: &[(&str, &[RuleRef])] = &[
        (
            "SelfSubjectReview",
            &[("authentication.k8s.io", "selfsubjectreviews", "create")],
        ),
        (
            "SelfSubjectAccessReview",
            &[("authorization.k8s.io", "selfsubjectaccessreviews", "create")],
        ),
        (
            ".exec(",
            &[("", "pods/exec", "get"), ("", "pods/exec", "create")],
        ),
    ];
    let compact: String = all.chars().filter(|c| !c.is_whitespace()).collect();
    for (needle, rules) in mentions {
        if compact.contains(needle) {
            for rule in rules_of(rules) {
                calls
                    .entry(rule)
                    .or_default()
                    .push(format!("src/server mentions {needle}"));
            }
        }
    }
    (calls, compact)
}

#[test]
fn the_scan_finds_calls() {
    let source = r#"
        async fn f(client: Client, api: Api<Namespace>) {
            let pods: Api<Pod> = Api::namespaced(client, "ns"); // pods.delete( in a comment
            let one = pods.get("p").await;
            let mut events = watcher(pods, Config::default());
            api.list(&ListParams::default()).await;
            let api = Api::<k8s_openapi::api::core::v1::Pod>::all(client);
            api.get_opt("x");
            let r = kube::core::Request::new(format!("/api/v1/namespaces/{}/pods", ns))
                .exec(&pod, command, &params);
            let q = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews");
            let map = other.get(&key);
        }
    "#;
    let found: BTreeSet<Rule> = calls_in("example.rs", source).into_keys().collect();
    let expected = rules_of(&[
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "namespaces", "list"),
        ("", "pods/exec", "get"),
        ("", "pods/exec", "create"),
        ("authentication.k8s.io", "selfsubjectreviews", "create"),
    ]);
    assert_eq!(found, expected);
}

#[test]
fn base_role_covers_the_calls_in_the_code_and_no_more() {
    let docs = deploy_docs();
    let base = granted_in(&docs, "deploy/base");
    let (calls, source) = calls_in_source();
    for (rule, wheres) in &calls {
        assert!(
            base.contains(rule),
            "the code calls {rule:?} ({}), which the base ClusterRole does not grant",
            wheres.join("; ")
        );
    }
    let ahead = rules_of(GRANTED_AHEAD);
    for rule in &base {
        assert!(
            calls.contains_key(rule) || ahead.contains(rule),
            "the base ClusterRole grants {rule:?}, which no call in src/server needs: \
             remove it (or, if granted on purpose, add it to GRANTED_AHEAD)"
        );
    }
    // Proxy mode impersonates the person (and their groups) on every call.
    let proxy = granted_in(&docs, "deploy/overlays/proxy");
    for (needle, resource) in [
        ("auth_info.impersonate=", "users"),
        ("auth_info.impersonate_groups=", "groups"),
    ] {
        if source.contains(needle) {
            assert!(
                proxy.contains(&rule("", resource, "impersonate")),
                "the code sets {needle}: the proxy overlay must grant impersonate on {resource}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The Deployment

/// The environment variables podterm reads (clap's `env = "PODTERM_…"`).
fn podterm_env_vars() -> BTreeSet<String> {
    let cli = read(&root().join("src/server/web/cli.rs"));
    let vars: BTreeSet<String> = cli
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|v| v.starts_with("PODTERM_"))
        .map(str::to_string)
        .collect();
    assert!(
        vars.len() >= 8,
        "found only {vars:?} in src/server/web/cli.rs"
    );
    vars
}

/// Every `PODTERM_…` word in a text.
fn env_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("PODTERM_"))
        .map(str::to_string)
        .collect()
}

fn env_of(container: &Value) -> BTreeMap<String, String> {
    container["env"]
        .as_sequence()
        .expect("the container has env")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().expect("env name").to_string();
            let value = e["value"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} has a literal value"));
            (name, value.to_string())
        })
        .collect()
}

/// SHUTDOWN_DEADLINE in src/server/web/start.rs, in seconds.
fn shutdown_deadline() -> i64 {
    let start = read(&root().join("src/server/web/start.rs"));
    let line = start
        .lines()
        .find(|l| l.contains("const SHUTDOWN_DEADLINE"))
        .expect("SHUTDOWN_DEADLINE in src/server/web/start.rs");
    let digits: String = line
        .split("from_secs(")
        .nth(1)
        .expect("Duration::from_secs")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("seconds")
}

#[test]
fn deployment_is_locked_down_and_wired_to_podterms_settings() {
    let docs = deploy_docs();
    let deployment = &one(&docs, "deploy/base", "Deployment").value;
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_sequence().expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    let c = &containers[0];
    assert_eq!(
        deployment["spec"]["replicas"].as_u64(),
        Some(1),
        "sessions live in one process"
    );

    // Non-root, read-only, no privileges.
    let sc = &c["securityContext"];
    let pod_sc = &pod["securityContext"];
    let either = |key: &str| {
        if sc[key].is_null() {
            &pod_sc[key]
        } else {
            &sc[key]
        }
    };
    assert_eq!(either("runAsNonRoot").as_bool(), Some(true), "runAsNonRoot");
    assert!(
        either("runAsUser").as_u64().is_some_and(|u| u != 0),
        "a non-root runAsUser"
    );
    assert_eq!(
        sc["readOnlyRootFilesystem"].as_bool(),
        Some(true),
        "readOnlyRootFilesystem"
    );
    assert_eq!(
        sc["allowPrivilegeEscalation"].as_bool(),
        Some(false),
        "allowPrivilegeEscalation"
    );
    assert_eq!(
        strings(&sc["capabilities"]["drop"], "capabilities.drop"),
        ["ALL"]
    );
    assert_eq!(
        either("seccompProfile")["type"].as_str(),
        Some("RuntimeDefault")
    );
    assert_eq!(
        pod["automountServiceAccountToken"].as_bool(),
        Some(true),
        "podterm calls the API"
    );

    // Probes on the container's port.
    let ports = c["ports"].as_sequence().expect("ports");
    assert_eq!(ports.len(), 1);
    let port_number = ports[0]["containerPort"].as_u64().expect("containerPort");
    let port_name = ports[0]["name"].as_str().unwrap_or("");
    let is_our_port = |v: &Value| {
        v.as_u64() == Some(port_number) || (v.as_str() == Some(port_name) && !port_name.is_empty())
    };
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert!(
            is_our_port(&get["port"]),
            "{probe} should use the container port"
        );
    }
    let source = read(&root().join("src/server/web/router.rs"));
    for path in ["/healthz", "/readyz"] {
        assert!(
            source.contains(&format!("\"{path}\"")),
            "podterm serves no {path}"
        );
    }

    // Resources.
    for key in ["cpu", "memory"] {
        assert!(
            !c["resources"]["requests"][key].is_null(),
            "resources.requests.{key}"
        );
    }
    assert!(
        !c["resources"]["limits"]["memory"].is_null(),
        "resources.limits.memory"
    );

    // Settings: only ones podterm reads; it listens on the container port.
    let known = podterm_env_vars();
    let env = env_of(c);
    for name in env.keys() {
        assert!(
            known.contains(name),
            "the Deployment sets {name}, which podterm does not read"
        );
    }
    let listen = env.get("PODTERM_LISTEN").expect("PODTERM_LISTEN");
    assert!(
        listen.starts_with("0.0.0.0:"),
        "listen beyond loopback, inside the pod"
    );
    assert_eq!(
        listen.rsplit(':').next(),
        Some(port_number.to_string().as_str())
    );
    assert_eq!(env.get("PODTERM_AUTH").map(String::as_str), Some("token"));
    assert_eq!(
        env.get("PODTERM_LOG_FORMAT").map(String::as_str),
        Some("json")
    );

    // The token file comes from the Secret the example shows.
    let token_file = Path::new(env.get("PODTERM_TOKEN_FILE").expect("PODTERM_TOKEN_FILE"));
    let mounts = c["volumeMounts"].as_sequence().expect("volumeMounts");
    let volumes = pod["volumes"].as_sequence().expect("volumes");
    let volume_at = |dir: &Path| {
        let mount = mounts
            .iter()
            .find(|m| m["mountPath"].as_str().map(Path::new) == Some(dir))
            .unwrap_or_else(|| panic!("nothing is mounted at {}", dir.display()));
        let name = mount["name"].as_str().expect("volume name");
        volumes
            .iter()
            .find(|v| v["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    let secret = &volume_at(token_file.parent().unwrap())["secret"];
    let example = one(&docs, "deploy/base/secret.example.yaml", "Secret");
    assert_eq!(secret["secretName"].as_str(), Some(example.name()));
    let key = token_file.file_name().unwrap().to_str().unwrap();
    assert!(
        !example.value["stringData"][key].is_null(),
        "the example Secret has key {key}"
    );
    for item in secret["items"].as_sequence().into_iter().flatten() {
        assert_eq!(item["path"].as_str(), Some(key), "the token file's name");
    }
    // The root file system is read-only: /tmp is an emptyDir.
    assert!(
        volume_at(Path::new("/tmp"))["emptyDir"].is_mapping(),
        "/tmp is an emptyDir"
    );

    // SIGTERM: podterm ends its sessions within SHUTDOWN_DEADLINE, then exits.
    let grace = pod["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("terminationGracePeriodSeconds");
    assert!(
        grace > shutdown_deadline(),
        "the grace period must outlast podterm's shutdown"
    );

    // The Service reaches the container port and selects this pod.
    let service = &one(&docs, "deploy/base", "Service").value;
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (k, v) in service["spec"]["selector"].as_mapping().expect("selector") {
        assert_eq!(
            &labels[k.as_str().unwrap()],
            v,
            "the Service selects the pod by {k:?}"
        );
    }
    let service_port = &service["spec"]["ports"][0];
    assert_eq!(service_port["port"].as_u64(), Some(80));
    assert_eq!(service_port["name"].as_str(), Some("http"));
    assert!(
        is_our_port(&service_port["targetPort"]),
        "the Service targets the container port"
    );
}

#[test]
fn deploy_and_containerfile_use_only_settings_podterm_reads() {
    let known = podterm_env_vars();
    let mut texts = vec![root().join("Containerfile")];
    texts.extend(files_under(&root().join("deploy"), &[".yaml", ".yml"]));
    for path in texts {
        for word in env_words(&read(&path)) {
            assert!(
                known.contains(&word),
                "{} names {word}, which podterm does not read (src/server/web/cli.rs)",
                relative(&path).display()
            );
        }
    }
}

#[test]
fn proxy_overlay_switches_to_proxy_login() {
    let docs = deploy_docs();
    let patch = docs
        .iter()
        .find(|d| d.is_in("deploy/overlays/proxy") && d.kind() == "Deployment")
        .expect("the proxy overlay patches the Deployment");
    let container = &patch.value["spec"]["template"]["spec"]["containers"][0];
    let env = container["env"].as_sequence().expect("env");
    let value = |name: &str| {
        env.iter()
            .find(|e| e["name"].as_str() == Some(name))
            .and_then(|e| e["value"].as_str())
    };
    assert_eq!(value("PODTERM_AUTH"), Some("proxy"));
    // No address range is safe to ship: the placeholder, which podterm refuses at start.
    assert_eq!(value("PODTERM_TRUSTED_PROXIES"), Some("REPLACE-ME"));
    // The groups podterm passes on are exactly those the ClusterRole may impersonate.
    let patterns: BTreeSet<String> = value("PODTERM_IMPERSONATE_GROUP_PATTERNS")
        .expect("the overlay lists the groups people may act as")
        .split(',')
        .map(|g| g.trim().to_string())
        .collect();
    let role = one(&docs, "deploy/overlays/proxy", "ClusterRole");
    let named: BTreeSet<String> = role.value["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|r| strings(&r["resources"], "resources") == ["groups"])
        .flat_map(|r| strings(&r["resourceNames"], "the impersonable groups"))
        .collect();
    assert_eq!(patterns, named);
    assert!(
        named
            .iter()
            .all(|g| !g.starts_with("system:") && !g.contains('*')),
        "{named:?}"
    );
    // Only the ingress controller reaches podterm's pods.
    let policy = one(&docs, "deploy/overlays/proxy", "NetworkPolicy");
    let deployment = one(&docs, "deploy/base", "Deployment");
    assert_eq!(
        policy.value["spec"]["podSelector"]["matchLabels"],
        deployment.value["spec"]["template"]["metadata"]["labels"]
    );
    assert_eq!(
        policy.value["spec"]["ingress"].as_sequence().map(Vec::len),
        Some(1)
    );
    // No token file in proxy mode: its Secret need not exist.
    let deleted = env.iter().any(|e| {
        e["name"].as_str() == Some("PODTERM_TOKEN_FILE") && e["$patch"].as_str() == Some("delete")
    });
    assert!(deleted, "the proxy overlay should drop PODTERM_TOKEN_FILE");
}

/// Renders both kustomizations with `kubectl kustomize` (no cluster needed) when kubectl is
/// installed, and checks what would be applied.
#[test]
fn kustomize_renders_both_layouts() {
    let render = |dir: &str| -> Option<Vec<Value>> {
        let output = match std::process::Command::new("kubectl")
            .args(["kustomize", dir])
            .current_dir(root())
            .output()
        {
            Ok(output) => output,
            Err(e) => {
                eprintln!("kubectl is not available ({e}); not rendering {dir}");
                return None;
            }
        };
        assert!(
            output.status.success(),
            "kubectl kustomize {dir} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        Some(
            serde_yaml::Deserializer::from_str(&text)
                .map(|d| Value::deserialize(d).expect("kustomize output is YAML"))
                .filter(|v| !v.is_null())
                .collect(),
        )
    };
    let Some(base) = render("deploy/base") else {
        return;
    };
    let proxy = render("deploy/overlays/proxy").expect("kubectl ran once already");
    let cluster_scoped = ["Namespace", "ClusterRole", "ClusterRoleBinding"];
    for object in base.iter().chain(&proxy) {
        let kind = object["kind"].as_str().unwrap_or("");
        if !cluster_scoped.contains(&kind) {
            assert_eq!(
                object["metadata"]["namespace"].as_str(),
                Some("podterm"),
                "{kind}"
            );
        }
    }
    let container = |objects: &[Value]| {
        let deployment = objects
            .iter()
            .find(|o| o["kind"].as_str() == Some("Deployment"))
            .expect("a Deployment");
        deployment["spec"]["template"]["spec"]["containers"][0].clone()
    };
    let env = env_of(&container(&base));
    assert_eq!(env.get("PODTERM_AUTH").map(String::as_str), Some("token"));
    let proxied = container(&proxy);
    let env = env_of(&proxied);
    assert_eq!(env.get("PODTERM_AUTH").map(String::as_str), Some("proxy"));
    assert!(env.contains_key("PODTERM_TRUSTED_PROXIES"));
    assert!(
        !env.contains_key("PODTERM_TOKEN_FILE"),
        "no token file in proxy mode"
    );
    let text = serde_yaml::to_string(&proxy).unwrap();
    assert!(
        !text.contains("podterm-token"),
        "the proxy layout needs no token Secret"
    );
    assert_eq!(
        base.len() + 3,
        proxy.len(),
        "the overlay adds a role, its binding and a NetworkPolicy"
    );
}

// ---------------------------------------------------------------------------------------
// The Containerfile

struct Stage {
    from: String,
    /// Instructions with their arguments, continuation lines joined.
    lines: Vec<(String, String)>,
}

fn containerfile_stages() -> Vec<Stage> {
    let text = read(&root().join("Containerfile"));
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        // Comment lines go, even inside a continued instruction.
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(start) => {
                current.push_str(start);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in joined {
        let (instruction, args) = line.split_once(' ').unwrap_or((&line, ""));
        let instruction = instruction.to_uppercase();
        let args = args.trim().to_string();
        if instruction == "FROM" {
            stages.push(Stage {
                from: args,
                lines: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.lines.push((instruction, args));
        }
    }
    stages
}

impl Stage {
    fn all<'a>(&'a self, instruction: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.lines
            .iter()
            .filter(move |(i, _)| i == instruction)
            .map(|(_, a)| a.as_str())
    }
    /// `ENV A=1 B=2` settings of this stage.
    fn env(&self) -> BTreeMap<String, String> {
        self.all("ENV")
            .flat_map(str::split_whitespace)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect()
    }
    /// Where `COPY … source dest` puts a source ending in `source`.
    fn copied(&self, source: &str) -> Option<String> {
        self.all("COPY").find_map(|args| {
            let words: Vec<&str> = args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let (dest, sources) = words.split_last()?;
            sources
                .iter()
                .any(|s| s.trim_end_matches('/').ends_with(source))
                .then(|| dest.trim_end_matches('/').to_string())
        })
    }
}

fn locked_version(krate: &str) -> String {
    let lock: toml::Table = read(&root().join("Cargo.lock"))
        .parse()
        .expect("Cargo.lock is TOML");
    let versions: Vec<&str> = lock["package"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["name"].as_str() == Some(krate))
        .filter_map(|p| p["version"].as_str())
        .collect();
    assert_eq!(
        versions.len(),
        1,
        "Cargo.lock should hold one {krate}: {versions:?}"
    );
    versions[0].to_string()
}

/// The version a `cargo install NAME … --version V` in the build stage installs (V may be
/// an ARG with a default).
fn installed_version(stage: &Stage, tool: &str) -> String {
    let args: BTreeMap<String, String> = stage
        .all("ARG")
        .filter_map(|a| a.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let install = stage
        .all("RUN")
        .flat_map(|run| run.split("&&"))
        .find(|cmd| cmd.contains("cargo install") && cmd.split_whitespace().any(|w| w == tool))
        .unwrap_or_else(|| panic!("the build stage does not cargo install {tool}"));
    let words: Vec<&str> = install.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "--version")
        .expect("--version");
    let version = words[at + 1].trim_matches('"');
    let name = version
        .trim_start_matches('$')
        .trim_matches(|c| c == '{' || c == '}');
    if version.starts_with('$') {
        args.get(name)
            .unwrap_or_else(|| panic!("ARG {name} has no default"))
            .clone()
    } else {
        version.to_string()
    }
}

#[test]
fn containerfile_builds_with_the_pinned_tools_and_runs_as_non_root() {
    let stages = containerfile_stages();
    assert!(stages.len() >= 2, "a multi-stage build");
    let build = stages
        .iter()
        .find(|s| {
            s.all("RUN")
                .any(|r| r.contains("cargo leptos build --release"))
        })
        .expect("a stage runs cargo leptos build --release");
    let runtime = stages.last().unwrap();

    // Tool versions the project pins.
    assert_eq!(
        installed_version(build, "wasm-bindgen-cli"),
        locked_version("wasm-bindgen"),
        "wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock"
    );
    let lib = read(&root().join("scripts/lib.sh"));
    let pinned = lib
        .lines()
        .find_map(|l| l.strip_prefix("CARGO_LEPTOS_VERSION="))
        .expect("CARGO_LEPTOS_VERSION in scripts/lib.sh")
        .trim_matches('"');
    assert_eq!(
        installed_version(build, "cargo-leptos"),
        pinned,
        "cargo-leptos as in scripts/lib.sh"
    );
    let cargo: toml::Table = read(&root().join("Cargo.toml"))
        .parse()
        .expect("Cargo.toml");
    let rust = cargo["workspace"]["package"]["rust-version"]
        .as_str()
        .unwrap();
    assert!(
        build.from.contains(&format!("rust:{rust}")),
        "the builder should use Rust {rust} (Cargo.toml's rust-version): {}",
        build.from
    );
    assert!(
        build
            .all("RUN")
            .any(|r| r.contains("scripts/pack-site target/site")),
        "the build stage should minify and compress the site as scripts/test serves it"
    );
    assert!(
        build.copied("node_modules").is_some(),
        "scripts/pack-site needs esbuild from the npm packages"
    );
    assert!(
        build.all("ENV").all(|e| !e.contains("CARGO_TARGET_DIR")),
        "the build stage should leave CARGO_TARGET_DIR unset: the runtime stage copies ./target"
    );

    // The runtime stage: non-root, with the binary, the site and its settings.
    let user = runtime
        .all("USER")
        .last()
        .expect("USER in the runtime stage");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root",
        "the image should run as non-root, not {user}"
    );
    let site_root = cargo["package"]["metadata"]["leptos"]["site-root"]
        .as_str()
        .unwrap();
    let binary = runtime
        .copied("target/release/podterm")
        .expect("COPY of the release binary");
    let site = runtime.copied(site_root).expect("COPY of the built site");
    let settings = runtime.copied("Leptos.toml").expect("COPY of Leptos.toml");
    let env = runtime.env();
    assert_eq!(
        env.get("PODTERM_SITE_ROOT"),
        Some(&site),
        "PODTERM_SITE_ROOT"
    );
    assert_eq!(
        env.get("PODTERM_LEPTOS_TOML"),
        Some(&settings),
        "PODTERM_LEPTOS_TOML"
    );
    let entrypoint = runtime.all("ENTRYPOINT").last().expect("ENTRYPOINT");
    assert!(
        entrypoint.contains(&format!("\"{binary}\"")),
        "ENTRYPOINT runs {binary}"
    );
    let listen = env.get("PODTERM_LISTEN").expect("PODTERM_LISTEN");
    let port = listen.rsplit(':').next().unwrap();
    assert!(
        runtime
            .all("EXPOSE")
            .any(|e| e.split_whitespace().any(|p| p == port)),
        "EXPOSE {port}"
    );
    let docs = deploy_docs();
    let deployment = &one(&docs, "deploy/base", "Deployment").value;
    let container_port =
        &deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"];
    assert_eq!(
        container_port.as_u64().map(|p| p.to_string()).as_deref(),
        Some(port)
    );
    let pod_user = &deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"];
    assert_eq!(
        pod_user.as_u64().map(|u| u.to_string()).as_deref(),
        Some(uid),
        "the same uid"
    );

    // The build context leaves out build output and history, for podman and docker alike.
    let containerignore = read(&root().join(".containerignore"));
    assert_eq!(
        containerignore,
        read(&root().join(".dockerignore")),
        ".dockerignore differs"
    );
    for entry in ["target/", "node_modules/", "end2end/test-results/", ".git/"] {
        assert!(
            containerignore.lines().any(|l| l.trim() == entry),
            ".containerignore lacks {entry}"
        );
    }
}
