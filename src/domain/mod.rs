//! Plain types and the rules that make them valid. No I/O lives here: a value of one of
//! these types that exists has passed its checks, so the layers above can trust it.

mod assessment;
mod audit;
mod category;
mod element;
mod error;
mod exposure;
mod ids;
mod incident;
pub mod inert;
mod person;
mod program;
mod severity;
mod status;
pub mod text;
pub mod when;

pub use assessment::{
    Assessment, Band, HarmInputs, SeriousHarm, SeriousHarmRecord, parse_quarters, quarters,
};
pub use audit::{AccessRecord, AuditAction, AuditEvent, ChangeNotice, EventDraft};
pub use category::{CategoryCatalog, CategoryDef, CategoryName};
pub use element::{DataElement, ElementDecision, ExposedElements};
pub use error::{DomainError, ErrorKind};
pub use exposure::{
    EvidenceSummary, Finding, ObligationRecord, ObligationState, Phase, Submission,
};
pub use ids::{EmployeeId, IncidentId, ProgramSlug, UserName};
pub use incident::{Incident, NewIncident, Purge};
pub use person::{AffectedPerson, Bounce, Email, Language, Location};
pub use program::{HookLease, NewProgram, Program, ProgramState};
pub use severity::Severity;
pub use status::Status;
