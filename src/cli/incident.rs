//! `breachdesk incident ...`: open, list, show and change incidents.

use std::process::ExitCode;

use super::args::{IncidentCommand, MemberChange, OpenArgs};
use super::output::{self, IncidentView, safe, short_time};
use super::{CliError, Context};
use crate::desk::{IncidentFilter, PeopleFilter, ReadPath};
use crate::domain::{IncidentId, NewIncident, UserName};

pub fn run(ctx: &mut Context<'_>, cmd: IncidentCommand) -> Result<ExitCode, CliError> {
    match cmd {
        IncidentCommand::Open(args) => open(ctx, args),
        IncidentCommand::List {
            status,
            max_severity,
            json,
        } => {
            let filter = IncidentFilter {
                status,
                max_severity,
            };
            let list = ctx.desk.incidents(filter)?;
            if json {
                let views: Vec<_> = list.iter().map(IncidentView::new).collect();
                output::json(ctx.out, &views)?;
            } else {
                list_table(ctx, &list)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Show { id, people, json } => show(ctx, id, people, json),
        IncidentCommand::Members { id, change, user } => members(ctx, id, change, user),
        IncidentCommand::Assess {
            id,
            dpc,
            dpc_reason,
            ei,
            cb_confidentiality,
            cb_integrity,
            cb_availability,
            cb_malicious,
            reason,
            json,
        } => {
            use crate::domain::parse_quarters;
            let loss = [0, 1, 2];
            let inputs = crate::domain::HarmInputs::from_quarters(
                dpc,
                dpc_reason,
                parse_quarters(&ei, "--ei", &[1, 2, 3, 4])?,
                [
                    parse_quarters(&cb_confidentiality, "--cb-confidentiality", &loss)?,
                    parse_quarters(&cb_integrity, "--cb-integrity", &loss)?,
                    parse_quarters(&cb_availability, "--cb-availability", &loss)?,
                    parse_quarters(&cb_malicious, "--cb-malicious", &[0, 2])?,
                ],
            )?;
            let inc = ctx.desk.assess_harm(id, inputs, reason)?;
            let Some(a) = &inc.assessment else {
                return Err(CliError::User("the assessment was not recorded".into()));
            };
            if json {
                let out = serde_json::json!({
                    "incident": inc.id,
                    "score": a.inputs.score(),
                    "band": a.inputs.band(),
                    "high_risk": a.inputs.band().is_high_risk(),
                    "inputs": a.inputs,
                    "reason": a.reason,
                    "by": a.by,
                    "at": a.at,
                });
                super::output::json(ctx.out, &out)?;
            } else {
                let art34 = if a.inputs.band().is_high_risk() {
                    "a high risk: GDPR Art. 34 requires telling the people affected"
                } else {
                    "not a high risk: GDPR Art. 34 does not require telling the people affected (other laws may)"
                };
                writeln!(ctx.out, "{}: {}; {art34}", inc.id, a.inputs.describe())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Elements {
            id,
            confirm,
            rule_out,
            reason,
            json,
        } => elements(ctx, id, confirm, rule_out, reason, json),
        IncidentCommand::SeriousHarm {
            id,
            likely,
            unlikely: _,
            mitigation,
            sensitivity,
            harm,
            recipients,
            security,
            other,
            reason,
        } => {
            let test = crate::domain::SeriousHarm::new(
                likely,
                [mitigation, sensitivity, harm, recipients, security, other],
            )?;
            let inc = ctx.desk.assess_serious_harm(id, test, reason)?;
            let summary = inc
                .serious_harm
                .as_ref()
                .map_or("recorded", |h| h.test.summary());
            writeln!(ctx.out, "{}: {summary}", inc.id)?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Purge {
            id,
            due,
            dry_run,
            reason,
        } => {
            if due {
                let incidents = ctx.desk.purge_due(dry_run)?;
                let verb = if dry_run { "due for purge" } else { "purged" };
                for inc in &incidents {
                    let closed = inc.closed_time().map_or_else(String::new, short_time);
                    writeln!(ctx.out, "{} {verb} (closed {closed} UTC)", inc.id)?;
                }
                if incidents.is_empty() {
                    writeln!(ctx.out, "no incident is {verb}")?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let (Some(id), Some(reason)) = (id, reason) else {
                return Err(CliError::User(
                    "incident purge needs an ID and --reason, or --due".into(),
                ));
            };
            let inc = ctx.desk.purge_incident(id, reason)?;
            writeln!(
                ctx.out,
                "{}: personal data purged (roster of {} people, letters, evidence); counts, obligations and the timeline remain",
                inc.id, inc.people
            )?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Clock {
            id,
            aware,
            determined,
            reason,
        } => {
            let inc = ctx.desk.set_clock(id, aware, determined, reason)?;
            writeln!(
                ctx.out,
                "{}: aware {} UTC, determined {} UTC; `breachdesk deadlines {}` shows the new due times",
                inc.id,
                short_time(inc.aware_time()),
                short_time(inc.determined_time()),
                inc.id
            )?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Exposure {
            id,
            from,
            until,
            reason,
        } => {
            let inc = ctx.desk.set_exposure(id, Some(from), until, reason)?;
            let until = inc.exposed_until.map_or_else(
                || "still exposed".to_owned(),
                |t| format!("{} UTC", short_time(t)),
            );
            writeln!(
                ctx.out,
                "{}: exposed from {} UTC to {until}",
                inc.id,
                inc.exposed_from.map_or_else(String::new, short_time)
            )?;
            if let Some(e) = &inc.evidence {
                writeln!(ctx.out, "{}: evidence: {}", inc.id, safe(&e.statement))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Describe {
            id,
            title,
            summary,
            reason,
        } => {
            let inc = ctx.desk.describe(id, title, summary, reason)?;
            writeln!(ctx.out, "{}: {}", inc.id, safe(&inc.title))?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Severity {
            id,
            severity,
            reason,
        } => {
            let inc = ctx.desk.set_severity(id, severity, reason)?;
            writeln!(
                ctx.out,
                "{} is now {}: {}",
                inc.id,
                inc.severity,
                inc.severity.guidance()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Status {
            id,
            status,
            reason,
            with_open_obligations,
        } => {
            let inc = ctx
                .desk
                .set_status(id, status, reason, with_open_obligations)?;
            writeln!(ctx.out, "{} is now {}", inc.id, inc.status)?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Note { id, text } => {
            let event = ctx.desk.add_note(id, text)?;
            writeln!(ctx.out, "note added to {id} (event {})", event.seq)?;
            Ok(ExitCode::SUCCESS)
        }
        IncidentCommand::Assign { id, user } => {
            let owner = UserName::parse(&user)?;
            let inc = ctx.desk.assign(id, owner)?;
            writeln!(ctx.out, "{} is now owned by {}", inc.id, inc.owner)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open(ctx: &mut Context<'_>, args: OpenArgs) -> Result<ExitCode, CliError> {
    let catalog = ctx.desk.catalog();
    let mut new = NewIncident::new(&args.title, args.severity, &args.summary)?;
    for c in &args.categories {
        new.categories.insert(catalog.parse(c)?);
    }
    new.programs = args.programs.into_iter().collect();
    new.discovered_at = args.discovered;
    new.aware_at = args.aware;
    new.exposed_from = args.exposed_from;
    new.exposed_until = args.exposed_until;
    let inc = ctx.desk.open_incident(new)?;
    writeln!(ctx.out, "{}", inc.id)?;
    Ok(ExitCode::SUCCESS)
}

fn list_table(ctx: &mut Context<'_>, list: &[crate::domain::Incident]) -> Result<(), CliError> {
    if list.is_empty() {
        writeln!(ctx.out, "no incidents")?;
        return Ok(());
    }
    writeln!(
        ctx.out,
        "{:<8} {:<5} {:<13} {:>8} {:>9}  {:<16}  TITLE",
        "ID", "SEV", "STATUS", "PEOPLE", "NOTIFIED", "OPENED"
    )?;
    for i in list {
        writeln!(
            ctx.out,
            "{:<8} {:<5} {:<13} {:>8} {:>9}  {:<16}  {}",
            i.id.to_string(),
            i.severity.to_string(),
            i.status.as_str(),
            i.people,
            i.notified,
            short_time(i.opened_at),
            safe(&i.title)
        )?;
    }
    Ok(())
}

fn members(
    ctx: &mut Context<'_>,
    id: IncidentId,
    change: Option<MemberChange>,
    user: Option<String>,
) -> Result<ExitCode, CliError> {
    let inc = match (change, user) {
        (Some(change), Some(user)) => {
            let user = UserName::parse(&user)?;
            let add = change == MemberChange::Add;
            let inc = ctx.desk.set_member(id, user.clone(), add)?;
            let verb = if add { "added to" } else { "removed from" };
            writeln!(ctx.err, "{user} {verb} {id}")?;
            inc
        }
        _ => ctx.desk.incident(id)?,
    };
    writeln!(ctx.out, "{}\towner", safe(inc.owner.as_str()))?;
    for member in &inc.members {
        writeln!(ctx.out, "{}\tmember", safe(member.as_str()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Records a decision on a data element (when one is given), then lists each element the
/// incident's categories contain or may contain, and the decisions taken.
fn elements(
    ctx: &mut Context<'_>,
    id: IncidentId,
    confirm: Option<crate::domain::DataElement>,
    rule_out: Option<crate::domain::DataElement>,
    reason: String,
    json: bool,
) -> Result<ExitCode, CliError> {
    let inc = match (confirm, rule_out) {
        (Some(element), _) => ctx.desk.decide_element(id, element, true, reason)?,
        (None, Some(element)) => ctx.desk.decide_element(id, element, false, reason)?,
        (None, None) => ctx.desk.incident(id)?,
    };
    let exposed = ctx.desk.rules().exposed_elements(&inc);
    if json {
        let decisions: Vec<serde_json::Value> = inc
            .elements
            .iter()
            .map(|(element, d)| {
                serde_json::json!({
                    "element": element,
                    "confirmed": d.confirmed,
                    "reason": d.reason,
                    "by": d.by,
                    "at": d.at,
                })
            })
            .collect();
        let out = serde_json::json!({
            "incident": inc.id,
            "exposed": exposed.certain,
            "possible": exposed.possible,
            "ruled_out": exposed.ruled_out,
            "decisions": decisions,
        });
        output::json(ctx.out, &out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = &mut *ctx.out;
    let list = |set: &std::collections::BTreeSet<crate::domain::DataElement>| {
        if set.is_empty() {
            "-".to_owned()
        } else {
            set.iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    writeln!(out, "{}: data elements", inc.id)?;
    writeln!(out, "exposed:    {}", list(&exposed.certain))?;
    writeln!(out, "possible:   {}", list(&exposed.possible))?;
    writeln!(out, "ruled out:  {}", list(&exposed.ruled_out))?;
    for (element, d) in &inc.elements {
        let verb = if d.confirmed {
            "confirmed"
        } else {
            "ruled out"
        };
        let why = if d.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", safe(&d.reason))
        };
        writeln!(
            out,
            "  {element} {verb} by {} at {} UTC{why}",
            safe(d.by.as_str()),
            short_time(d.at)
        )?;
    }
    if !exposed.possible.is_empty() {
        writeln!(
            out,
            "Confirm or rule out each possible element: breachdesk incident elements {} --confirm ELEMENT | --rule-out ELEMENT --reason R",
            inc.id
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn show(
    ctx: &mut Context<'_>,
    id: IncidentId,
    with_people: bool,
    json: bool,
) -> Result<ExitCode, CliError> {
    let inc = ctx.desk.incident(id)?;
    let people = if with_people {
        Some(
            ctx.desk
                .people(id, PeopleFilter::default(), ReadPath::IncidentShow)?,
        )
    } else {
        None
    };
    // A viewer sees the summary of an incident whose timeline is need-to-know.
    let events = match ctx.desk.timeline(id) {
        Ok(events) => Some(events),
        Err(e) if e.is_denied() && !with_people => None,
        Err(e) => return Err(e.into()),
    };
    if json {
        let mut view = IncidentView::new(&inc);
        view.timeline = events
            .as_ref()
            .map(|events| events.iter().map(output::EventView::new).collect());
        view.affected = people
            .as_ref()
            .map(|people| people.iter().map(output::PersonView::new).collect());
        view.uncovered = Some(ctx.desk.rules().uncovered(&inc));
        output::json(ctx.out, &view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let programs = ctx.desk.programs()?;
    let out = &mut *ctx.out;
    writeln!(
        out,
        "{}  {}  {}  {}",
        inc.id,
        inc.severity,
        inc.status,
        safe(&inc.title)
    )?;
    writeln!(
        out,
        "severity:    {} {}",
        inc.severity,
        inc.severity.guidance()
    )?;
    writeln!(out, "owner:       {}", safe(inc.owner.as_str()))?;
    for u in ctx.desk.rules().uncovered(&inc) {
        writeln!(out, "law:         {}", safe(&u.to_string()))?;
    }
    if !inc.members.is_empty() {
        let names: Vec<&str> = inc.members.iter().map(|m| m.as_str()).collect();
        writeln!(out, "members:     {}", safe(&names.join(", ")))?;
    }
    writeln!(out, "opened:      {} UTC", short_time(inc.opened_at))?;
    writeln!(out, "discovered:  {} UTC", short_time(inc.discovered_at))?;
    writeln!(out, "aware:       {} UTC", short_time(inc.aware_time()))?;
    if let Some(p) = &inc.purged {
        writeln!(
            out,
            "purged:      {} UTC by {} (roster, letters and evidence destroyed): {}",
            short_time(p.at),
            safe(p.by.as_str()),
            safe(&p.reason)
        )?;
    }
    let cats: Vec<&str> = inc.categories.iter().map(|c| c.as_str()).collect();
    writeln!(
        out,
        "categories:  {}",
        if cats.is_empty() {
            "-".into()
        } else {
            cats.join(", ")
        }
    )?;
    let exposed = ctx.desk.rules().exposed_elements(&inc);
    if !exposed.possible.is_empty() {
        let names: Vec<&str> = exposed.possible.iter().map(|e| e.as_str()).collect();
        writeln!(
            out,
            "elements:    possible, to confirm or rule out (incident elements): {}",
            names.join(", ")
        )?;
    }
    let linked: Vec<String> = programs
        .iter()
        .filter(|p| inc.programs.contains(&p.slug))
        .map(|p| format!("{} ({})", p.slug, p.state))
        .collect();
    writeln!(
        out,
        "programmes:  {}",
        if linked.is_empty() {
            "-".into()
        } else {
            linked.join(", ")
        }
    )?;
    writeln!(
        out,
        "people:      {} ({} notified)",
        inc.people, inc.notified
    )?;
    if !inc.summary.is_empty() {
        writeln!(out, "summary:")?;
        for line in inc.summary.lines() {
            writeln!(out, "  {}", safe(line))?;
        }
    }
    match &events {
        Some(events) => {
            writeln!(out, "timeline:")?;
            output::timeline(out, events)?;
        }
        None => writeln!(
            out,
            "timeline:    need-to-know (the owner, members and admins see it)"
        )?,
    }
    if let Some(people) = &people {
        writeln!(out, "affected people:")?;
        for p in people {
            writeln!(
                out,
                "  {:<14} {:<24} {}",
                safe(p.employee_id.as_str()),
                safe(&p.name),
                safe(p.email.as_str())
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
