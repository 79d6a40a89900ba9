//! The administrator's view of live terminal sessions: list them, end one.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::server::AppState;
use crate::server::web::identity::Caller;

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "only administrators may see or end others' sessions",
    )
        .into_response()
}

pub async fn list(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Response {
    if !caller.admin {
        return forbidden();
    }
    Json(state.admissions.list()).into_response()
}

pub async fn end(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    if !caller.admin {
        return forbidden();
    }
    if state.admissions.end(&id) {
        tracing::info!(session = %id, by = caller.identity.name(), "session ended by an administrator");
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::NOT_FOUND, "no live session has that id").into_response()
    }
}
