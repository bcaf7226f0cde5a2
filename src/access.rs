//! Need-to-know: who may do what. Roles come from the `[access]` section of the config;
//! an incident that holds personal data is open only to its owner, its members and admins.
//! The desk asks this module before every action and every read of personal data.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{DomainError, Incident, UserName};

/// What a user may do in general.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, on every incident, and managing incident members.
    Admin,
    /// Opens incidents; full access to the incidents they own or are members of.
    Responder,
    /// The board and incident summaries; never personal data.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Responder => "responder",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[access]` section: user names per role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    #[serde(default)]
    pub admins: Vec<String>,
    #[serde(default)]
    pub responders: Vec<String>,
    #[serde(default)]
    pub viewers: Vec<String>,
}

/// Who holds which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    admins: BTreeSet<UserName>,
    responders: BTreeSet<UserName>,
    viewers: BTreeSet<UserName>,
}

/// How an action relates to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Title, severity, status, counts: anyone with a role.
    Summary,
    /// The timeline and notes: anyone with a role while the incident holds no personal
    /// data; then only its owner, members and admins.
    Details,
    /// Names, addresses, categories per person, letters.
    PersonalData,
    /// Changing the incident or acting for it (pause, queue, send).
    Change,
    /// Adding or removing members: the owner or an admin.
    Membership,
}

/// The access a desk operation needs, as the table of operations (`src/desk/ops.rs`)
/// states it per row; a session checks it before the operation runs. The `&'static str` is
/// the action's name in a recorded refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Open to anyone who reaches the desk (asking who one is).
    Anyone,
    /// At least this role, for actions not tied to one incident. The operation may narrow
    /// this further (a hook needs an admin; a resume needs every blocking incident).
    Role(Role, &'static str),
    /// This need on the incident the request names.
    Incident(crate::domain::IncidentId, Need, &'static str),
    /// This need on the incident if the request names one, else at least the role.
    Scoped(Option<crate::domain::IncidentId>, Need, Role, &'static str),
}

impl Policy {
    /// The single-user policy of a fresh install: `user` is admin, nobody else has a role.
    /// Everyone who holds a role, each once, in name order.
    pub fn users(&self) -> Vec<UserName> {
        let all: BTreeSet<&UserName> = self
            .admins
            .iter()
            .chain(&self.responders)
            .chain(&self.viewers)
            .collect();
        all.into_iter().cloned().collect()
    }

    pub fn single_user(user: UserName) -> Self {
        Policy {
            admins: BTreeSet::from([user]),
            responders: BTreeSet::new(),
            viewers: BTreeSet::new(),
        }
    }

    /// The policy an `[access]` section describes; with none, `local` is the only admin.
    pub fn from_config(
        config: Option<&AccessConfig>,
        local: &UserName,
    ) -> Result<Self, DomainError> {
        let Some(config) = config else {
            return Ok(Policy::single_user(local.clone()));
        };
        let names = |list: &[String]| -> Result<BTreeSet<UserName>, DomainError> {
            list.iter().map(|n| UserName::parse(n)).collect()
        };
        Ok(Policy {
            admins: names(&config.admins)?,
            responders: names(&config.responders)?,
            viewers: names(&config.viewers)?,
        })
    }

    /// The highest role `user` holds, if any.
    pub fn role(&self, user: &UserName) -> Option<Role> {
        if self.admins.contains(user) {
            Some(Role::Admin)
        } else if self.responders.contains(user) {
            Some(Role::Responder)
        } else if self.viewers.contains(user) {
            Some(Role::Viewer)
        } else {
            None
        }
    }

    /// Whether `user` may do what `need` describes on `incident`; the error says why not.
    pub fn check(&self, user: &UserName, incident: &Incident, need: Need) -> Result<(), Denial> {
        let role = self.role(user).ok_or(Denial::NoRole)?;
        if role == Role::Admin {
            return Ok(());
        }
        let involved = incident.owner == *user || incident.members.contains(user);
        let allowed = match need {
            Need::Summary => true,
            Need::Details => !incident.is_restricted() || (involved && role == Role::Responder),
            Need::PersonalData | Need::Change => role == Role::Responder && involved,
            Need::Membership => role == Role::Responder && incident.owner == *user,
        };
        if allowed {
            Ok(())
        } else if role == Role::Viewer {
            Err(Denial::Viewer)
        } else if need == Need::Membership {
            Err(Denial::NotOwner)
        } else {
            Err(Denial::NotMember)
        }
    }

    /// Whether `user` may do something not tied to one incident that needs at least
    /// `least` (admin < responder < viewer in power order).
    pub fn check_role(&self, user: &UserName, least: Role) -> Result<Role, Denial> {
        let role = self.role(user).ok_or(Denial::NoRole)?;
        if role <= least {
            Ok(role)
        } else if least == Role::Admin {
            Err(Denial::NotAdmin)
        } else {
            Err(Denial::Viewer)
        }
    }
}

/// Why access was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    NoRole,
    Viewer,
    NotMember,
    NotOwner,
    NotAdmin,
    NotRegistrant,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Denial::NoRole => "you have no role in this breachdesk (ask an admin to add you to [access])",
            Denial::Viewer => "viewers see the board and summaries only, never personal data or changes",
            Denial::NotMember => "only the incident's owner, its members and admins have access (ask the owner to add you with `incident members ID add USER`)",
            Denial::NotOwner => "only the incident's owner or an admin can change its members",
            Denial::NotAdmin => "only an admin can do this",
            Denial::NotRegistrant => "only the responder who registered the programme or an admin can change it (linking it to an incident stays open to the incident's members)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{IncidentId, NewIncident, Severity};
    use chrono::Utc;

    fn user(n: &str) -> UserName {
        UserName::parse(n).unwrap()
    }

    fn policy() -> Policy {
        let config = AccessConfig {
            admins: vec!["ada".into()],
            responders: vec!["rita".into(), "ron".into()],
            viewers: vec!["vic".into()],
        };
        Policy::from_config(Some(&config), &user("root")).unwrap()
    }

    fn incident(people: u64) -> Incident {
        let new = NewIncident::new("Exposure", Severity::new(2).unwrap(), "").unwrap();
        let mut inc = Incident::open(IncidentId::new(1), new, user("rita"), Utc::now());
        inc.people = people;
        inc
    }

    #[test]
    fn restricted_incident_is_need_to_know() {
        let p = policy();
        let inc = incident(10);
        assert!(p.check(&user("rita"), &inc, Need::PersonalData).is_ok());
        assert!(p.check(&user("ada"), &inc, Need::PersonalData).is_ok());
        assert_eq!(
            p.check(&user("ron"), &inc, Need::PersonalData),
            Err(Denial::NotMember)
        );
        assert_eq!(
            p.check(&user("vic"), &inc, Need::PersonalData),
            Err(Denial::Viewer)
        );
        assert_eq!(
            p.check(&user("eve"), &inc, Need::Summary),
            Err(Denial::NoRole)
        );
        assert!(p.check(&user("vic"), &inc, Need::Summary).is_ok());
        assert!(p.check(&user("vic"), &inc, Need::Details).is_err());
        assert!(p.check(&user("vic"), &incident(0), Need::Details).is_ok());
    }

    #[test]
    fn members_get_access_and_only_owners_manage_them() {
        let p = policy();
        let mut inc = incident(10);
        inc.members.insert(user("ron"));
        assert!(p.check(&user("ron"), &inc, Need::PersonalData).is_ok());
        assert_eq!(
            p.check(&user("ron"), &inc, Need::Membership),
            Err(Denial::NotOwner)
        );
        assert!(p.check(&user("rita"), &inc, Need::Membership).is_ok());
    }

    #[test]
    fn no_access_section_makes_the_local_user_admin() {
        let p = Policy::from_config(None, &user("me")).unwrap();
        assert_eq!(p.role(&user("me")), Some(Role::Admin));
        assert_eq!(p.role(&user("someone")), None);
    }
}
