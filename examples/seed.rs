//! Fills a database for benchmarks:
//! `cargo run --profile dist --example seed -- DIR INCIDENTS [PEOPLE]` opens that many incidents
//! through the desk, with varied severities and statuses, and imports a roster of PEOPLE
//! (default none) into INC-1.

use std::path::PathBuf;

use breachdesk::config::Settings;
use breachdesk::crypto::Key;
use breachdesk::desk::{Desk, LocalDesk};
use breachdesk::domain::{IncidentId, NewIncident, Severity, Status, UserName};
use breachdesk::store::Store;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: seed DIR INCIDENTS"))?,
    );
    let count: u64 = args.next().unwrap_or_else(|| "10000".into()).parse()?;
    let people: usize = args.next().unwrap_or_else(|| "0".into()).parse()?;
    let actor = UserName::parse("bench")?;
    let desk = LocalDesk::for_local_user(
        Store::open(&dir, &Key::for_database(&dir, None)?)?,
        Settings::defaults(),
        actor.clone(),
    );
    let desk = std::sync::Arc::new(desk).session(actor.clone());
    let catalog = desk.catalog();
    for n in 0..count {
        let severity = Severity::new((n % 6) as u8)?;
        let mut new = NewIncident::new(
            &format!("Seeded incident {n}: monitoring export readable by all staff"),
            severity,
            "Generated for benchmarks.",
        )?;
        new.categories
            .insert(catalog.parse(["keystrokes", "transcripts", "screenshots"][(n % 3) as usize])?);
        let inc = desk.open_incident(new)?;
        if n % 4 == 0 {
            desk.set_status(
                inc.id,
                Status::Investigating,
                Some("seeded".to_owned()),
                false,
            )?;
        }
    }
    if people > 0 {
        let csv = breachdesk::demo::roster_csv(people);
        desk.import_roster(
            IncidentId::new(1),
            csv.as_bytes().to_vec(),
            "seed.csv".to_owned(),
            false,
        )?;
    }
    eprintln!("seeded {count} incidents and {people} people on INC-1");
    Ok(())
}
