//! The login page: a form for the access token, or for a person's own Kubernetes token and
//! the cluster it is for. A server-only page (no wasm, no script), written as a view.

use leptos::prelude::*;

use crate::server::web::auth::Mode;

/// What the login page shows.
pub struct LoginPage {
    pub base: String,
    pub mode: Mode,
    /// Where to go once logged in.
    pub next: String,
    pub error: Option<String>,
    /// In user-token mode: the cluster the login is for.
    pub cluster: Option<ClusterChoice>,
}

/// The contexts a person can log in to, and the one chosen.
pub struct ClusterChoice {
    pub contexts: Vec<String>,
    pub chosen: String,
}

/// The whole document.
pub fn render(page: LoginPage) -> String {
    let LoginPage {
        base,
        mode,
        next,
        error,
        cluster,
    } = page;
    let (label, help) = match mode {
        Mode::UserToken => (
            "Your Kubernetes token",
            "podterm acts as you: it uses this token for your calls to this cluster only, keeps it on the server, and never shows it again. Another cluster needs its own login, which replaces this one.",
        ),
        _ => (
            "Access token",
            "The access token is in podterm's start-up message, or wherever your administrator keeps it.",
        ),
    };
    let view = view! {
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Log in · podterm"</title>
                <link rel="stylesheet" href=format!("{base}/pkg/podterm.css")/>
                <link rel="icon" href=format!("{base}/favicon.svg") type="image/svg+xml"/>
            </head>
            <body>
                <main class="login">
                    <h1>"podterm"</h1>
                    <form method="post" action=format!("{base}/login")>
                        {cluster.map(cluster_choice)}
                        <label for="token">{label}</label>
                        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus/>
                        <input type="hidden" name="next" value=next/>
                        {error.map(|e| view! { <p class="login-error" role="alert">{e}</p> })}
                        <p class="hint">{help}</p>
                        <button class="button primary" type="submit">"Log in"</button>
                    </form>
                </main>
            </body>
        </html>
    };
    format!("<!DOCTYPE html>{}", view.to_html())
}

/// A choice when there are several clusters; else the one, hidden.
fn cluster_choice(cluster: ClusterChoice) -> AnyView {
    let ClusterChoice { contexts, chosen } = cluster;
    if contexts.len() < 2 {
        return view! { <input type="hidden" name="context" value=chosen/> }.into_any();
    }
    let options = contexts
        .into_iter()
        .map(|name| {
            let (selected, value) = (name == chosen, name.clone());
            view! { <option value=value selected=selected>{name}</option> }
        })
        .collect_view();
    view! {
        <label for="context">"Cluster"</label>
        <select id="context" name="context">{options}</select>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(error: Option<&str>, cluster: Option<ClusterChoice>) -> String {
        render(LoginPage {
            base: "/t".into(),
            mode: if cluster.is_some() {
                Mode::UserToken
            } else {
                Mode::Token
            },
            next: "/?a=<b>&c=\"d\"".into(),
            error: error.map(str::to_string),
            cluster,
        })
    }

    #[test]
    fn what_the_page_shows_is_escaped() {
        let html = page(Some("<script>"), None);
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{html}"
        );
        assert!(html.contains(r#"action="/t/login""#), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn several_clusters_are_a_choice() {
        let html = page(
            None,
            Some(ClusterChoice {
                contexts: vec!["demo".into(), "other".into()],
                chosen: "other".into(),
            }),
        );
        assert!(
            html.contains(r#"<option value="other" selected>"#),
            "{html}"
        );
        assert!(html.contains(r#"<option value="demo">"#), "{html}");
        let one = page(
            None,
            Some(ClusterChoice {
                contexts: vec!["demo".into()],
                chosen: "demo".into(),
            }),
        );
        assert!(
            one.contains(r#"<input type="hidden" name="context" value="demo">"#),
            "{one}"
        );
    }
}
