//! Every files request's first steps, in one order: the names checked, the cluster asked
//! whether this person may exec in the pod, a transfer counted against the person's limit,
//! and the way to the container's files found (which may start a debug container, so it
//! comes last).

use super::reach::{Place, reach};
use super::{FileError, Slot};
use crate::files::FilesQuery;
use crate::model::Target;
use crate::server::AppState;
use crate::server::cluster::access::may_exec;
use crate::server::web::identity::Caller;

/// What a request does with the container's files.
pub enum Use {
    /// Lists or looks: not counted.
    Look,
    /// Moves a file: counted against the person's transfers at once.
    Transfer,
}

/// A request let in.
pub struct Begun {
    pub place: Place,
    /// The container, in the context the cluster was asked in (the current one when the
    /// request named none).
    pub target: Target,
    /// Holds a transfer's place in the person's limit until dropped.
    _slot: Option<Slot>,
}

/// The container a route's path names, in the context its query asks for.
pub fn target((namespace, pod, container): (String, String, String), query: &FilesQuery) -> Target {
    Target {
        context: query.context.clone(),
        namespace,
        pod,
        container,
    }
}

pub async fn begin(
    state: &AppState,
    caller: &Caller,
    target: &Target,
    used: Use,
) -> Result<Begun, FileError> {
    let Target {
        context,
        namespace,
        pod,
        container,
    } = target;
    crate::names::validate_place(namespace, pod, container).map_err(FileError::bad)?;
    let cluster = state
        .clusters
        .get(context.as_deref(), &caller.identity)
        .await
        .map_err(crate::server::cluster::kube_errors::Failure::from)?;
    may_exec(&cluster, namespace, Some(pod))
        .await
        .map_err(|f| FileError::from(f).context("files move through exec"))?;
    let slot = match used {
        Use::Look => None,
        Use::Transfer => Some(state.files.admit(caller.identity.name())?),
    };
    let place = reach(state, caller, &cluster, namespace, pod, container).await?;
    Ok(Begun {
        place,
        target: Target {
            context: Some(cluster.context.clone()),
            ..target.clone()
        },
        _slot: slot,
    })
}
