//! The addresses of `/api/files/NS/POD/CONTAINER/{list,download,upload,cwd}` (without the
//! site's base). Every value in the query is percent-encoded: a path may hold spaces, line
//! breaks, any Unicode, a leading dash.

use crate::files::{CWD, DOWNLOAD, LIST, UPLOAD};
use crate::model::Target;
use crate::protocol::encode;

/// `action` on `target`'s container, with `query` after the context.
fn address(target: &Target, action: &str, query: &[(&str, String)]) -> String {
    let mut pairs = Vec::new();
    if let Some(context) = &target.context {
        pairs.push(format!("context={}", encode(context)));
    }
    pairs.extend(query.iter().map(|(k, v)| format!("{k}={}", encode(v))));
    let query = if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    };
    format!(
        "/api/files/{}/{}/{}/{action}{query}",
        encode(&target.namespace),
        encode(&target.pod),
        encode(&target.container)
    )
}

/// A directory's entries; `None`: the container's working directory.
pub fn list(target: &Target, path: Option<&str>) -> String {
    let query: Vec<_> = path.map(|p| ("path", p.to_string())).into_iter().collect();
    address(target, LIST, &query)
}

/// A file, or a directory as `NAME.tar.gz`.
pub fn download(target: &Target, path: &str) -> String {
    address(target, DOWNLOAD, &[("path", path.to_string())])
}

/// What an upload sends besides the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put {
    pub overwrite: bool,
    /// The file's modification time, seconds since the epoch.
    pub mtime: Option<i64>,
    pub executable: bool,
}

/// Where an upload of the file that lands at `path` goes.
pub fn upload(target: &Target, path: &str, put: Put) -> String {
    let mut query = vec![
        ("path", path.to_string()),
        ("overwrite", put.overwrite.to_string()),
    ];
    if let Some(mtime) = put.mtime {
        query.push(("mtime", mtime.to_string()));
    }
    query.push(("executable", put.executable.to_string()));
    address(target, UPLOAD, &query)
}

/// Where an upload goes by default: the shell's directory of terminal `session`.
pub fn cwd(target: &Target, session: Option<&str>) -> String {
    let query: Vec<_> = session
        .map(|s| ("session", s.to_string()))
        .into_iter()
        .collect();
    address(target, CWD, &query)
}

/// What a download is saved as, unless podterm names it otherwise.
pub fn saved_name(path: &str, dir: bool) -> String {
    let name = match crate::files::base_name(path) {
        "" => "root",
        name => name,
    };
    if dir {
        format!("{name}.tar.gz")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(context: Option<&str>) -> Target {
        Target {
            context: context.map(str::to_string),
            namespace: "shop".into(),
            pod: "web-0".into(),
            container: "web".into(),
        }
    }

    #[test]
    fn paths_travel_encoded() {
        assert_eq!(list(&target(None), None), "/api/files/shop/web-0/web/list");
        assert_eq!(
            list(&target(Some("admin@demo")), Some("/tmp/a b\n/-rf/é")),
            "/api/files/shop/web-0/web/list?context=admin%40demo&path=%2Ftmp%2Fa%20b%0A%2F-rf%2F%C3%A9"
        );
        assert_eq!(
            download(&target(None), "/etc/os-release"),
            "/api/files/shop/web-0/web/download?path=%2Fetc%2Fos-release"
        );
        assert_eq!(
            cwd(&target(None), Some("s-1")),
            "/api/files/shop/web-0/web/cwd?session=s-1"
        );
        assert_eq!(cwd(&target(None), None), "/api/files/shop/web-0/web/cwd");
    }

    #[test]
    fn an_upload_names_its_options() {
        let put = Put {
            overwrite: false,
            mtime: Some(1_796_205_607),
            executable: true,
        };
        assert_eq!(
            upload(&target(None), "/tmp/x&y=z", put),
            "/api/files/shop/web-0/web/upload?path=%2Ftmp%2Fx%26y%3Dz&overwrite=false&mtime=1796205607&executable=true"
        );
        let put = Put {
            overwrite: true,
            mtime: None,
            executable: false,
        };
        assert!(upload(&target(None), "/a", put).ends_with("&overwrite=true&executable=false"));
    }

    #[test]
    fn downloads_are_named_after_the_path() {
        assert_eq!(saved_name("/var/log", true), "log.tar.gz");
        assert_eq!(saved_name("/", true), "root.tar.gz");
        assert_eq!(saved_name("/etc/a b.txt", false), "a b.txt");
    }
}
