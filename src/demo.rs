//! A realistic demo database, so a newcomer sees a populated board: a staff-monitoring
//! programme (paused), a SEV 2 exposure with 2,000 affected people across categories and
//! countries, two older incidents, notes. Everything goes through the desk, as a responder
//! would do it.

use crate::desk::{Desk, DeskError, IncidentFilter};
use crate::domain::{IncidentId, NewIncident, NewProgram, Severity, Status};

/// What the demo created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub incidents: usize,
    pub people: usize,
    pub main_incident: IncidentId,
}

const FIRST: [&str; 20] = [
    "Ana", "Bilal", "Chen", "Dagny", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kiri",
    "Luca", "Maya", "Nils", "Oksana", "Priya", "Quentin", "Rosa", "Sione", "Tariq",
];
const LAST: [&str; 20] = [
    "Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lund", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Silva", "Tane",
];
const PLACES: [&str; 8] = ["US-CA", "DE", "NZ", "US-TX", "IE", "US-WA", "FR", "US-CO"];
const EXPOSED: [&str; 6] = [
    "keystrokes;mouse-movements",
    "keystrokes;chat-messages",
    "chat-messages;transcripts",
    "performance-data;keystrokes",
    "screenshots;application-usage",
    "mouse-movements;application-usage;performance-data",
];

/// The demo roster as CSV: `people` rows.
pub fn roster_csv(people: usize) -> String {
    let mut csv = String::from("employee_id,name,email,categories,location\n");
    for i in 0..people {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        csv.push_str(&format!(
            "E{:05},{first} {last},{}.{}{}@corp.example,{},{}\n",
            10_000 + i,
            first.to_lowercase(),
            last.to_lowercase(),
            i,
            EXPOSED[i % EXPOSED.len()],
            PLACES[i % PLACES.len()],
        ));
    }
    csv
}

/// Fills an empty database with the demo. Refuses a database that already has incidents.
pub fn populate(desk: &dyn Desk) -> Result<DemoSummary, DeskError> {
    if !desk.incidents(IncidentFilter::default())?.is_empty() {
        return Err(DeskError::Unchanged(
            "this database already holds incidents; give `demo` an empty --db directory".into(),
        ));
    }
    let catalog = desk.catalog();
    let program =
        |slug: &str, name: &str, cats: &[&str], hook: Option<&str>| -> Result<(), DeskError> {
            let mut new = NewProgram::new(
                slug.parse()?,
                name,
                hook,
                hook.map(|_| "echo monitoring agents restarted"),
            )?;
            for c in cats {
                new.categories.insert(catalog.parse(c)?);
            }
            desk.add_program(new).map(|_| ())
        };
    program(
        "staff-monitoring",
        "Staff activity monitoring for model training",
        &[
            "keystrokes",
            "mouse-movements",
            "chat-messages",
            "transcripts",
            "performance-data",
        ],
        Some("echo 'collection stopped on 2,140 laptops'"),
    )?;
    program(
        "chat-archive",
        "Workplace chat archive",
        &["chat-messages"],
        None,
    )?;
    program(
        "badge-analytics",
        "Office badge analytics",
        &["contact-details"],
        None,
    )?;

    let open = |title: &str,
                sev: u8,
                summary: &str,
                cats: &[&str],
                programs: &[&str]|
     -> Result<IncidentId, DeskError> {
        let mut new = NewIncident::new(title, Severity::new(sev)?, summary)?;
        for c in cats {
            new.categories.insert(catalog.parse(c)?);
        }
        for p in programs {
            new.programs.insert(p.parse()?);
        }
        Ok(desk.open_incident(new)?.id)
    };
    let old = open(
        "Badge export emailed to the wrong team",
        4,
        "A weekly badge-analytics export went to a sales list instead of facilities.",
        &["contact-details"],
        &["badge-analytics"],
    )?;
    for (status, reason) in [
        (Status::Investigating, "recall requested"),
        (Status::Contained, "recipients confirmed deletion"),
        (Status::Resolved, "distribution list fixed"),
        (Status::Closed, "no further action"),
    ] {
        desk.set_status(old, status, Some(reason.to_owned()), false)?;
    }
    let chat = open(
        "Chat archive search open to contractors",
        3,
        "Contractor accounts could search the workplace chat archive for two days.",
        &["chat-messages"],
        &["chat-archive"],
    )?;
    desk.set_status(
        chat,
        Status::Investigating,
        Some("reviewing search logs".to_owned()),
        false,
    )?;
    desk.add_note(
        chat,
        "Access revoked for contractor group at 11:40; checking search history.".to_owned(),
    )?;

    let main = open(
        "Monitoring data readable company-wide",
        2,
        "The store holding keystrokes, mouse movements, chat transcripts and performance data \
         collected from staff for model training was readable by every employee.",
        &[
            "keystrokes",
            "mouse-movements",
            "chat-messages",
            "transcripts",
            "performance-data",
        ],
        &["staff-monitoring"],
    )?;
    desk.set_status(
        main,
        Status::Investigating,
        Some("establishing who read the data".to_owned()),
        false,
    )?;
    desk.add_note(
        main,
        "Bucket ACL set to the training team only at 15:10 UTC.".to_owned(),
    )?;
    let people = 2000;
    desk.import_roster(
        main,
        roster_csv(people).as_bytes().to_vec(),
        "demo-roster.csv".to_owned(),
        false,
    )?;
    desk.pause_program(
        "staff-monitoring".parse()?,
        main,
        "collection paused while we investigate".to_owned(),
    )?;
    desk.add_note(
        main,
        "Storage access logs requested from the platform team.".to_owned(),
    )?;
    Ok(DemoSummary {
        incidents: 3,
        people,
        main_incident: main,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::crypto::Key;
    use crate::desk::LocalDesk;
    use crate::roster;
    use crate::store::Store;

    #[test]
    fn demo_roster_is_valid() {
        let people =
            roster::parse(roster_csv(2000).as_bytes(), "demo", &Default::default()).unwrap();
        assert_eq!(people.len(), 2000);
    }

    #[test]
    fn demo_fills_an_empty_database_once() {
        let dir = tempfile::tempdir().unwrap();
        let actor = crate::domain::UserName::parse("demo").unwrap();
        let desk = std::sync::Arc::new(LocalDesk::for_local_user(
            Store::open(dir.path(), &Key::generate().unwrap()).unwrap(),
            Settings::defaults(),
            actor.clone(),
        ))
        .session(actor);
        let summary = populate(&desk).unwrap();
        assert_eq!(summary.main_incident, IncidentId::new(3));
        let main = desk.incident(summary.main_incident).unwrap();
        assert_eq!(main.people, 2000);
        assert!(populate(&desk).is_err());
    }
}
