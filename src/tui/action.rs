//! What a key can ask for. Keys become actions through the key table; the app turns actions
//! into state changes.

/// One thing the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Filter,
    NextTab,
    PrevTab,
    NewIncident,
    Severity,
    Status,
    Note,
    Assign,
    Import,
    Link,
    Assess,
    SeriousHarm,
    Pause,
    Resume,
    TogglePending,
    CycleCategory,
    ClearFilters,
    QueueLetters,
    PreviewLetter,
    SendLetters,
    RetryLetters,
}
