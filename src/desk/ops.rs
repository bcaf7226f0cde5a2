//! The one table of desk operations. Each row states an operation's request name, its
//! method, its typed arguments and reply, the function that does it on a local desk, and the
//! access it needs. Everything that repeats per operation is generated from this table:
//!
//! - the [`Desk`](super::Desk) trait (`src/desk.rs`);
//! - the protocol's `Request` enum, one variant per row (`src/remote/protocol.rs`);
//! - the remote desk's client methods (`src/remote/calls.rs`);
//! - the daemon's dispatch of a decoded request (`src/remote/dispatch.rs`);
//! - the local [`Session`](super::Session) methods, which check the row's access before
//!   running the area function (`src/desk/local.rs`).
//!
//! Adding an operation means adding a row here and its function in the area's file. The
//! argument types validate themselves when a request is decoded (an `IncidentId` is never 0,
//! a `Severity` is 0-5, a `ProgramSlug`, `UserName`, `EmployeeId` or `Email` is checked as
//! the command line checks it), so the daemon never runs an operation on an unchecked value.
//! Streaming operations (a send with progress, an evidence upload, watching for changes) and
//! the ones that never cross the socket are written by hand, once, beside the generated ones.
//!
//! The table is a macro that hands its rows to a *callback* macro: each of the places above
//! defines what it makes of a row and calls `desk_ops!(its_callback { extra items })`. The
//! rows name types as the places that expand them import them: [`vocabulary`].

/// The types the table's rows name, imported by every place that expands the table.
pub(crate) mod vocabulary {
    pub use crate::access::{Access, Need, Role};
    pub use crate::alerts::{AlertState, Round};
    pub use crate::audit::{HeadReport, Tamper, Verified};
    pub use crate::deadlines::Obligation;
    pub use crate::desk::{
        BounceOutcome, Identity, ImportReport, IncidentFilter, LinkOutcome, OutboxStatus,
        PauseOutcome, PeopleFilter, QueueReport, ReadPath, ResumeOutcome,
    };
    pub use crate::domain::{
        AffectedPerson, AuditEvent, DataElement, Email, EmployeeId, HarmInputs, Incident,
        IncidentId, NewIncident, NewProgram, ObligationState, Program, ProgramSlug, SeriousHarm,
        Severity, Status, UserName,
    };
    pub use crate::evidence::Evidence;
    pub use crate::notify::TemplateName;
    pub use crate::notify::bounce::BounceReport;
    pub use chrono::{DateTime, Utc};
}

/// Hands every row to `$callback!`, after the `{ ... }` of extra tokens the caller gives
/// (the hand-written items that belong beside the generated ones).
///
/// A row: `Variant method(arg: Type, ...) -> Reply = area::function, access;` where the
/// function takes `(&LocalDesk, &UserName, args...)` and the access is an
/// [`Access`](crate::access::Access) expression over the arguments.
macro_rules! desk_ops {
    ($callback:ident { $($extra:tt)* }) => {
        $callback! {
            { $($extra)* }

            /// Who is calling, as the desk sees it: the session's user (in the daemon, the
            /// user the socket's peer credentials name) and their role.
            Identity identity() -> Identity = audit::identity, Access::Anyone;

            // ----- incidents -------------------------------------------------------------

            /// Logs a new incident; the caller becomes its owner.
            OpenIncident open_incident(new: NewIncident) -> Incident =
                incidents::open, Access::Role(Role::Responder, "incident.open");
            /// Incidents, most severe first, then newest.
            Incidents incidents(filter: IncidentFilter) -> Vec<Incident> =
                incidents::list, Access::Role(Role::Viewer, "incident.list");
            /// One incident's summary.
            Incident incident(id: IncidentId) -> Incident =
                incidents::show, Access::Incident(id, Need::Summary, "incident.show");
            /// The incident's events and notes, oldest first.
            Timeline timeline(id: IncidentId) -> Vec<AuditEvent> =
                incidents::timeline, Access::Incident(id, Need::Details, "incident.timeline");
            /// Rates the incident again, with the reason.
            SetSeverity set_severity(id: IncidentId, severity: Severity, reason: String) -> Incident =
                incidents::set_severity, Access::Incident(id, Need::Change, "incident.severity");
            /// Rewrites the title or the summary (or both) as the facts become clearer, with
            /// the reason.
            Describe describe(id: IncidentId, title: Option<String>, summary: Option<String>, reason: String) -> Incident =
                incidents::describe, Access::Incident(id, Need::Change, "incident.describe");
            /// Records a harm assessment (ENISA severity) with the reason.
            AssessHarm assess_harm(id: IncidentId, inputs: HarmInputs, reason: String) -> Incident =
                incidents::assess, Access::Incident(id, Need::Change, "incident.assess");
            /// Records New Zealand's serious-harm test with the reason.
            AssessSeriousHarm assess_serious_harm(id: IncidentId, test: SeriousHarm, reason: String) -> Incident =
                incidents::assess_serious_harm, Access::Incident(id, Need::Change, "incident.assess");
            /// Records a decision on a data element the incident's categories may contain:
            /// confirmed exposed, or ruled out (with the reason); the rules limited to it
            /// follow.
            DecideElement decide_element(id: IncidentId, element: DataElement, confirmed: bool, reason: String) -> Incident =
                incidents::decide_element, Access::Incident(id, Need::Change, "incident.elements");
            /// Moves the incident along its lifecycle.
            /// Closing an incident whose legal obligations are still open is refused, naming
            /// them, unless `with_open_obligations` (and a reason) says to close anyway.
            SetStatus set_status(id: IncidentId, status: Status, reason: Option<String>, with_open_obligations: bool) -> Incident =
                incidents::set_status, Access::Incident(id, Need::Change, "incident.status");
            /// Adds a note to the timeline.
            AddNote add_note(id: IncidentId, text: String) -> AuditEvent =
                incidents::add_note, Access::Incident(id, Need::Change, "incident.note");
            /// Hands the incident to another owner.
            Assign assign(id: IncidentId, owner: UserName) -> Incident =
                incidents::assign, Access::Incident(id, Need::Membership, "incident.assign");
            /// Adds (`add`) or removes a member of an incident; members see its personal data.
            SetMember set_member(id: IncidentId, user: UserName, add: bool) -> Incident =
                incidents::set_member, Access::Incident(id, Need::Membership, "incident.members");
            /// Everyone who holds a role, to choose members from.
            KnownUsers known_users() -> Vec<UserName> =
                incidents::known_users, Access::Role(Role::Viewer, "incident.members");
            /// Changes when the organisation became aware of the breach and when it was
            /// determined (the legal clocks' starts); recorded with the reason.
            SetClock set_clock(
                id: IncidentId,
                aware: Option<DateTime<Utc>>,
                determined: Option<DateTime<Utc>>,
                reason: String,
            ) -> Incident =
                incidents::set_clock, Access::Incident(id, Need::Change, "incident.clock");
            /// Sets the exposure window (when the data became exposed and when that ended) that
            /// access logs are held against, with the reason; the evidence finding follows.
            SetExposure set_exposure(
                id: IncidentId,
                from: Option<DateTime<Utc>>,
                until: Option<DateTime<Utc>>,
                reason: String,
            ) -> Incident =
                deadlines::set_exposure, Access::Incident(id, Need::Change, "incident.exposure");
            /// Destroys a closed incident's personal data (its data key, roster, letters and
            /// evidence), keeping counts, obligations, the assessment and the audit trail.
            PurgeIncident purge_incident(id: IncidentId, reason: String) -> Incident =
                retention::purge, Access::Role(Role::Admin, "incident.purge");
            /// Purges every incident closed longer than `[retention] days_after_close`; with
            /// `dry_run`, only lists them.
            PurgeDue purge_due(dry_run: bool) -> Vec<Incident> =
                retention::purge_due, Access::Role(Role::Admin, "incident.purge");

            // ----- alerts ----------------------------------------------------------------

            /// Records the deadline alerts now due and delivers what each `[[alert]]`
            /// destination has pending (the daemon does this every second).
            SendAlerts send_alerts() -> Round =
                alerts::round, Access::Role(Role::Responder, "alerts.send");
            /// Where delivery to each alert destination stands.
            AlertStates alert_states() -> Vec<AlertState> =
                alerts::states, Access::Role(Role::Viewer, "alerts.list");
            /// Sends a test alert to one destination; what it answered.
            TestAlert test_alert(name: String) -> String =
                alerts::test, Access::Role(Role::Responder, "alerts.test");

            // ----- people ----------------------------------------------------------------

            /// Validates a CSV roster and, unless `dry_run`, merges it into the incident's
            /// people. On the socket the file's bytes travel as hex, so that a file that is
            /// not UTF-8 gets the same error as locally.
            ImportRoster import_roster(
                id: IncidentId,
                #[serde(with = "crate::remote::hex")] csv: Vec<u8>,
                source_name: String,
                dry_run: bool,
            ) -> ImportReport =
                people::import, Access::Incident(id, Need::Change, "people.import");
            /// The matching people; `path` names the read in the access log.
            People people(id: IncidentId, filter: PeopleFilter, path: ReadPath) -> Vec<AffectedPerson> =
                people::list, Access::Incident(id, Need::PersonalData, path.as_str());
            /// People `offset..offset + limit` of the roster in import order (at most 10,000),
            /// reading only those.
            PeopleWindow people_window(id: IncidentId, offset: usize, limit: usize) -> Vec<AffectedPerson> =
                people::window, Access::Incident(id, Need::PersonalData, "tui.people");

            // ----- programmes ------------------------------------------------------------

            /// Registers a programme (with hooks: admins only).
            AddProgram add_program(new: NewProgram) -> Program =
                programs::add, Access::Role(Role::Responder, "program.add");
            /// Every programme; viewers see that a hook exists, not what it runs.
            Programs programs() -> Vec<Program> =
                programs::list, Access::Role(Role::Viewer, "program.list");
            /// Links a programme to an incident, so that pausing it is part of containing it.
            LinkProgram link_program(slug: ProgramSlug, id: IncidentId) -> LinkOutcome =
                programs::link, Access::Incident(id, Need::Change, "program.link");
            /// Unlinks a programme from an incident, with the reason (an admin's, while a
            /// critical incident holds it paused).
            UnlinkProgram unlink_program(slug: ProgramSlug, id: IncidentId, reason: String) -> Program =
                program_edit::unlink, Access::Incident(id, Need::Change, "program.unlink");
            /// Changes a programme's name, owner, categories and hooks (hooks: admins only).
            EditProgram edit_program(new: NewProgram) -> Program =
                program_edit::edit, Access::Role(Role::Responder, "program.edit");
            /// Records the pause and runs the pause hook; blocks until the hook ends.
            PauseProgram pause_program(slug: ProgramSlug, id: IncidentId, reason: String) -> PauseOutcome =
                programs::pause, Access::Incident(id, Need::Change, "program.pause");
            /// Resumes unless a linked SEV 0-2 incident is unsettled (or `force`, admins only);
            /// runs the hook. Beyond the role, the caller needs the right to change every
            /// blocking incident: `resume.rs` checks that against the programme's links.
            ResumeProgram resume_program(slug: ProgramSlug, reason: String, force: bool) -> ResumeOutcome =
                resume::resume, Access::Role(Role::Responder, "program.resume");

            // ----- the audit log ---------------------------------------------------------

            /// The audit log, oldest first: one incident's events, or (admins) all of it.
            AuditLog audit_log(incident: Option<IncidentId>) -> Vec<AuditEvent> =
                audit::log, Access::Scoped(incident, Need::Details, Role::Admin, "audit.log");
            /// Checks the hash chain, the head's key tag and the witness; the inner result is
            /// what was checked or the first thing found tampered.
            VerifyAudit verify_audit() -> Result<Verified, Tamper> =
                audit::verify, Access::Role(Role::Viewer, "audit.verify");
            /// The current head of the audit chain (`None` while the log is empty).
            AuditHead audit_head() -> Option<HeadReport> =
                audit::head, Access::Role(Role::Viewer, "audit.head");
            /// Starts a new audit witness where the one this database kept is gone (admins,
            /// after checking where the database came from); recorded in the chain, and the
            /// new head returned.
            ResetWitness reset_witness(reason: String) -> Option<HeadReport> =
                audit::reset_witness, Access::Role(Role::Admin, "audit.witness-reset");
            /// Access-log entries (reads of personal data and refusals), oldest first: of one
            /// incident, or (admins) all of them; optionally only one user's.
            AccessLog access_log(incident: Option<IncidentId>, user: Option<UserName>) -> Vec<AuditEvent> =
                audit::access_log, Access::Scoped(incident, Need::Details, Role::Admin, "audit.access");

            // ----- letters ---------------------------------------------------------------

            /// The exact message one person would get (the first on the roster by default).
            PreviewLetter preview_letter(id: IncidentId, template: TemplateName, person: Option<EmployeeId>) -> String =
                notifications::preview, Access::Incident(id, Need::PersonalData, ReadPath::LetterPreview.as_str());
            /// Queues one letter per matching person (or per `recipients` for the
            /// stakeholder brief); a letter already in the outbox is not queued again. A
            /// first notice lacking what the law requires is refused unless `incomplete`
            /// gives the reason to queue it anyway (recorded).
            QueueNotifications queue_notifications(
                id: IncidentId,
                template: TemplateName,
                filter: PeopleFilter,
                recipients: Vec<Email>,
                incomplete: Option<String>,
            ) -> QueueReport =
                notifications::queue, Access::Incident(id, Need::Change, "notify.queue");
            /// How an incident's letters stand; `path` names the read in the access log.
            OutboxStatus outbox_status(id: IncidentId, path: ReadPath) -> OutboxStatus =
                outbox::status, Access::Incident(id, Need::PersonalData, path.as_str());
            /// Requeues every failed letter of an incident; returns how many.
            RetryFailed retry_failed(id: IncidentId) -> usize =
                outbox::retry, Access::Incident(id, Need::Change, "notify.retry");
            /// Records bounces read from the bounce mailbox: each matched letter is marked
            /// bounced and its person no longer counts as notified. Of one incident, or of
            /// every incident the caller may change.
            RecordBounces record_bounces(id: Option<IncidentId>, reports: Vec<BounceReport>) -> BounceOutcome =
                bounces::record, Access::Scoped(id, Need::Change, Role::Responder, "notify.bounces");
            /// Connects and logs in to the configured mail server.
            TestSmtp test_smtp() -> String =
                notifications::test_smtp, Access::Role(Role::Responder, "notify.test-smtp");
            /// What stops letters going out as configured (no sender, no contact), each as
            /// "what: how to fix it"; empty when nothing does.
            MailReadiness mail_readiness() -> Vec<String> =
                notifications::readiness, Access::Role(Role::Viewer, "notify.readiness");

            // ----- deadlines and evidence ------------------------------------------------

            /// The legal obligations of one incident, or of every unsettled incident, soonest
            /// due first.
            Obligations obligations(id: Option<IncidentId>) -> Vec<Obligation> =
                deadlines::obligations, Access::Scoped(id, Need::Summary, Role::Viewer, "deadlines");
            /// Records an obligation as done (with when and a reference) or waived (with why).
            SettleObligation settle_obligation(id: IncidentId, rule: String, state: ObligationState) -> Obligation =
                deadlines::settle, Access::Incident(id, Need::Change, "obligation.settle");
            /// Records that a rule applies although what happened does not trigger it (the
            /// responder judges viewing was acquisition), with the reason.
            ApplyObligation apply_obligation(id: IncidentId, rule: String, reason: String) -> Obligation =
                deadlines::apply, Access::Incident(id, Need::Change, "obligation.apply");
            /// The imported evidence in full: who read whose data (personal data).
            Evidence evidence(id: IncidentId) -> Evidence =
                deadlines::evidence, Access::Incident(id, Need::PersonalData, ReadPath::EvidenceSummary.as_str());
        }
    };
}

pub(crate) use desk_ops;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    /// Lists the rows' method names.
    macro_rules! op_names {
        (
            { }
            $(
                $(#[doc = $doc:literal])*
                $variant:ident $name:ident ( $( $(#[$fattr:meta])* $arg:ident : $ty:ty ),* $(,)? )
                    -> $reply:ty = $local:path, $access:expr ;
            )*
        ) => {
            /// Every operation in the table, by its method name, in table order.
            const OPERATIONS: &[&str] = &[$(stringify!($name)),*];
        };
    }

    desk_ops!(op_names {});

    #[test]
    fn every_operation_is_named_once() {
        let names: HashSet<_> = OPERATIONS.iter().collect();
        assert_eq!(names.len(), OPERATIONS.len());
        assert!(OPERATIONS.len() >= 30, "{OPERATIONS:?}");
    }
}
