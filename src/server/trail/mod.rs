//! The trail: the audit log (`audit`), session recordings (`recording`), keeping their
//! files private (`private_files`), and the admission limits that decide whether a person
//! may open another terminal (`admission`).

pub mod admission;
pub mod audit;
mod private_files;
pub mod recording;
