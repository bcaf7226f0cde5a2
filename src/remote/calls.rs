//! Each desk operation as a request on the daemon's socket: the `Desk` implementation of
//! [`RemoteDesk`]. Connections, the hello and replies are `client.rs`.

use super::protocol::{self, Request, Welcome, to_hex};
use crate::audit::{HeadReport, Tamper, Verified};
use crate::deadlines::Obligation;
use crate::desk::{
    Desk, DeskError, ErrorKind, Identity, ImportReport, IncidentFilter, LinkOutcome, OutboxStatus,
    PauseOutcome, PeopleFilter, QueueReport, ReadPath, ResumeOutcome, SendOptions, SendProgress,
};
use crate::domain::text::display_path;
use crate::domain::{
    AffectedPerson, AuditEvent, CategoryCatalog, Email, EmployeeId, Incident, IncidentId,
    NewIncident, NewProgram, Program, ProgramSlug, Severity, Status, UserName,
};
use crate::domain::{EvidenceSummary, ObligationState};
use crate::evidence::Evidence;
use crate::notify::TemplateName;

use super::client::{HELLO, RemoteDesk, names, read_full};

impl Desk for RemoteDesk {
    fn catalog(&self) -> CategoryCatalog {
        self.catalog.clone()
    }

    fn rules(&self) -> crate::deadlines::RuleBook {
        self.rules.clone()
    }

    fn identity(&self) -> Result<Identity, DeskError> {
        let welcome: Welcome = self.call(&HELLO)?;
        Ok(welcome.identity)
    }

    fn set_member(&self, id: IncidentId, user: UserName, add: bool) -> Result<Incident, DeskError> {
        self.call(&Request::SetMember {
            id,
            user: user.to_string(),
            add,
        })
    }

    fn access_log(
        &self,
        incident: Option<IncidentId>,
        user: Option<&UserName>,
    ) -> Result<Vec<AuditEvent>, DeskError> {
        self.call(&Request::AccessLog {
            incident,
            user: user.map(ToString::to_string),
        })
    }

    fn open_incident(&self, new: NewIncident) -> Result<Incident, DeskError> {
        self.call(&Request::OpenIncident {
            title: new.title,
            severity: new.severity.level(),
            summary: new.summary,
            categories: names(new.categories.iter().map(|c| c.as_str())),
            programs: names(new.programs.iter().map(|p| p.as_str())),
            discovered_at: new.discovered_at,
            aware_at: new.aware_at,
        })
    }

    fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, DeskError> {
        self.call(&Request::Incidents {
            status: filter.status.map(|s| s.as_str().to_owned()),
            max_severity: filter.max_severity.map(Severity::level),
        })
    }

    fn incident(&self, id: IncidentId) -> Result<Incident, DeskError> {
        self.call(&Request::Incident { id })
    }

    fn timeline(&self, id: IncidentId) -> Result<Vec<AuditEvent>, DeskError> {
        self.call(&Request::Timeline { id })
    }

    fn set_severity(
        &self,
        id: IncidentId,
        severity: Severity,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetSeverity {
            id,
            severity: severity.level(),
            reason: reason.to_owned(),
        })
    }

    fn set_status(
        &self,
        id: IncidentId,
        status: Status,
        reason: Option<&str>,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetStatus {
            id,
            status: status.as_str().to_owned(),
            reason: reason.map(str::to_owned),
        })
    }

    fn add_note(&self, id: IncidentId, text: &str) -> Result<AuditEvent, DeskError> {
        self.call(&Request::AddNote {
            id,
            text: text.to_owned(),
        })
    }

    fn assign(&self, id: IncidentId, owner: UserName) -> Result<Incident, DeskError> {
        self.call(&Request::Assign {
            id,
            owner: owner.to_string(),
        })
    }

    fn import_roster(
        &self,
        id: IncidentId,
        csv: &[u8],
        source_name: &str,
        dry_run: bool,
    ) -> Result<ImportReport, DeskError> {
        self.call(&Request::ImportRoster {
            id,
            csv_hex: to_hex(csv),
            source_name: source_name.to_owned(),
            dry_run,
        })
    }

    fn people(
        &self,
        id: IncidentId,
        filter: &PeopleFilter,
        path: ReadPath,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        self.call(&Request::People {
            id,
            category: filter.category.as_ref().map(|c| c.as_str().to_owned()),
            pending: filter.pending,
            text: filter.text.clone(),
            path,
        })
    }

    fn people_window(
        &self,
        id: IncidentId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<AffectedPerson>, DeskError> {
        self.call(&Request::PeopleWindow {
            id,
            offset: offset as u64,
            limit: limit as u64,
        })
    }

    fn add_program(&self, new: NewProgram) -> Result<Program, DeskError> {
        self.call(&Request::AddProgram {
            slug: new.slug.to_string(),
            name: new.name,
            owner: new.owner.map(|o| o.to_string()),
            categories: names(new.categories.iter().map(|c| c.as_str())),
            pause_hook: new.pause_hook,
            resume_hook: new.resume_hook,
        })
    }

    fn programs(&self) -> Result<Vec<Program>, DeskError> {
        self.call(&Request::Programs)
    }

    fn link_program(&self, slug: &ProgramSlug, id: IncidentId) -> Result<LinkOutcome, DeskError> {
        self.call(&Request::LinkProgram {
            slug: slug.to_string(),
            id,
        })
    }

    fn pause_program(
        &self,
        slug: &ProgramSlug,
        id: IncidentId,
        reason: &str,
    ) -> Result<PauseOutcome, DeskError> {
        self.call(&Request::PauseProgram {
            slug: slug.to_string(),
            id,
            reason: reason.to_owned(),
        })
    }

    fn resume_program(
        &self,
        slug: &ProgramSlug,
        reason: &str,
        force: bool,
    ) -> Result<ResumeOutcome, DeskError> {
        self.call(&Request::ResumeProgram {
            slug: slug.to_string(),
            reason: reason.to_owned(),
            force,
        })
    }

    fn audit_log(&self, incident: Option<IncidentId>) -> Result<Vec<AuditEvent>, DeskError> {
        self.call(&Request::AuditLog { incident })
    }

    fn verify_audit(&self) -> Result<Result<Verified, Tamper>, DeskError> {
        self.call(&Request::VerifyAudit)
    }

    fn audit_head(&self) -> Result<Option<HeadReport>, DeskError> {
        self.call(&Request::AuditHead)
    }

    fn preview_letter(
        &self,
        id: IncidentId,
        template: TemplateName,
        person: Option<&EmployeeId>,
    ) -> Result<String, DeskError> {
        self.call(&Request::PreviewLetter {
            id,
            template,
            person: person.map(|p| p.as_str().to_owned()),
        })
    }

    fn queue_notifications(
        &self,
        id: IncidentId,
        template: TemplateName,
        filter: &PeopleFilter,
        recipients: &[Email],
    ) -> Result<QueueReport, DeskError> {
        self.call(&Request::QueueNotifications {
            id,
            template,
            category: filter.category.as_ref().map(|c| c.as_str().to_owned()),
            pending: filter.pending,
            text: filter.text.clone(),
            recipients: names(recipients.iter().map(|r| r.as_str())),
        })
    }

    fn send_notifications(
        &self,
        scope: Option<IncidentId>,
        options: &SendOptions,
        progress: &mut dyn FnMut(&SendProgress),
    ) -> Result<SendProgress, DeskError> {
        // Ctrl-C hangs up: the daemon then stops starting letters (see the server).
        self.call_with_progress(
            &Request::SendNotifications {
                scope,
                rate: options.rate,
            },
            progress,
            options.stop.as_deref(),
        )
    }

    fn outbox_status(&self, id: IncidentId, path: ReadPath) -> Result<OutboxStatus, DeskError> {
        self.call(&Request::OutboxStatus { id, path })
    }

    fn export_letters(&self, _id: IncidentId, _dir: &std::path::Path) -> Result<usize, DeskError> {
        Err(DeskError::NotConfigured(
            "notify export writes the letters on the machine that holds the database, so it works only without --remote, on the daemon's host".into(),
        ))
    }

    fn watch(&self) -> Result<std::sync::mpsc::Receiver<crate::domain::ChangeNotice>, DeskError> {
        let (mut stream, _welcome) = self.open_connection()?;
        let body = serde_json::to_vec(&Request::Watch).map_err(|e| self.garbled(e))?;
        protocol::write_frame(&mut stream, &body).map_err(|e| self.gone(e))?;
        let reply = self.read_reply(&mut stream)?;
        if reply.reply != "ok" {
            return Err(super::watch::refused(&reply));
        }
        Ok(super::watch::forward(stream))
    }

    fn retry_failed(&self, id: IncidentId) -> Result<usize, DeskError> {
        self.call(&Request::RetryFailed { id })
    }

    fn test_smtp(&self) -> Result<String, DeskError> {
        self.call(&Request::TestSmtp)
    }

    fn set_clock(
        &self,
        id: IncidentId,
        aware: Option<chrono::DateTime<chrono::Utc>>,
        determined: Option<chrono::DateTime<chrono::Utc>>,
        reason: &str,
    ) -> Result<Incident, DeskError> {
        self.call(&Request::SetClock {
            id,
            aware,
            determined,
            reason: reason.to_owned(),
        })
    }

    fn obligations(&self, id: Option<IncidentId>) -> Result<Vec<Obligation>, DeskError> {
        self.call(&Request::Obligations { id })
    }

    fn settle_obligation(
        &self,
        id: IncidentId,
        rule: &str,
        state: ObligationState,
    ) -> Result<Obligation, DeskError> {
        self.call(&Request::SettleObligation {
            id,
            rule: rule.to_owned(),
            state,
        })
    }

    fn import_evidence(
        &self,
        id: IncidentId,
        log: &mut dyn std::io::Read,
        source_name: &str,
        allowed: &std::collections::HashSet<String>,
    ) -> Result<EvidenceSummary, DeskError> {
        let request = Request::ImportEvidence {
            id,
            source_name: source_name.to_owned(),
            allowed: allowed.iter().cloned().collect(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| self.garbled(e))?;
        let mut stream = self.fresh(&body)?;
        let mut chunk = vec![0u8; protocol::CHUNK];
        loop {
            let n = read_full(log, &mut chunk).map_err(|e| DeskError::Remote {
                kind: ErrorKind::Invalid,
                message: format!("cannot read {}: {e}", display_path(source_name)),
            })?;
            protocol::write_frame(&mut stream, &chunk[..n]).map_err(|e| self.gone(e))?;
            if n == 0 {
                break;
            }
        }
        self.finish(stream, &mut |_| {}, None)
    }

    fn evidence(&self, id: IncidentId) -> Result<Evidence, DeskError> {
        self.call(&Request::Evidence { id })
    }
}
