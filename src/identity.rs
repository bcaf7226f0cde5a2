//! Who is acting: locally, the operating-system user running the process.

use crate::domain::UserName;

/// The name of the user this process runs as, from the password database; `uid-N` when
/// the uid has no entry.
#[allow(clippy::expect_used, reason = "uid-N is always a valid user name")]
pub fn current_user() -> UserName {
    let uid = nix::unistd::Uid::current();
    let name = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid-{uid}"));
    UserName::parse(&name).unwrap_or_else(|_| {
        UserName::parse(&format!("uid-{uid}")).expect("uid-N is always a valid user name")
    })
}
